// A stand-in for the part of the Excel JavaScript API that xlplugin-office.js uses, backed by
// plain data (window.__book), so the task pane can run in a real Chromium without Excel.
// Excel itself cannot run on this machine; what Excel does with the same calls is not tested here.
(function () {
  function letters(c) { var s = ""; c += 1; while (c > 0) { var r = (c - 1) % 26; s = String.fromCharCode(65 + r) + s; c = Math.floor((c - 1) / 26); } return s; }
  function a1(r, c) { return letters(c) + (r + 1); }
  function parse(address) { var m = /^([A-Z]+)(\d+)$/.exec(address); var c = 0; for (var i = 0; i < m[1].length; i++) c = c * 26 + m[1].charCodeAt(i) - 64; return [Number(m[2]) - 1, c - 1]; }
  function cell(sheet, r, c) { var k = a1(r, c); return sheet.cells[k] || (sheet.cells[k] = {}); }

  function Range(sheet, row, column, rows, columns) {
    var self = this;
    this.rowIndex = row; this.columnIndex = column; this.rowCount = rows; this.columnCount = columns;
    this.load = function () {};
    Object.defineProperty(this, "values", {
      get: function () { var out = []; for (var r = 0; r < rows; r++) { var line = []; for (var c = 0; c < columns; c++) { var v = (sheet.cells[a1(row + r, column + c)] || {}).value; line.push(v === undefined || v === null ? "" : v); } out.push(line); } return out; },
      set: function (values) { values.forEach(function (line, r) { line.forEach(function (v, c) { cell(sheet, row + r, column + c).value = v === "" ? null : v; }); }); }
    });
    Object.defineProperty(this, "numberFormat", { set: function () {} });
    Object.defineProperty(this, "hyperlink", { set: function (link) { cell(sheet, row, column).hyperlink = link.documentReference || link.address; } });
    this.address = sheet.name + "!" + a1(row, column) + ":" + a1(row + rows - 1, column + columns - 1);
    this.merge = function () { sheet.merges.push(a1(row, column) + ":" + a1(row + rows - 1, column + columns - 1)); };
    var each = function (f) { for (var r = 0; r < rows; r++) for (var c = 0; c < columns; c++) f(cell(sheet, row + r, column + c)); };
    this.format = {
      fill: { clear: function () { each(function (x) { delete x.color; }); } },
      font: new Proxy({}, { set: function (t, key, value) { each(function (x) { x["font_" + key] = value; }); return true; } })
    };
    Object.defineProperty(this.format.fill, "color", { set: function (color) { each(function (x) { x.color = color.toUpperCase(); }); } });
    Object.defineProperty(this.format, "columnWidth", { set: function () {} });
    void self;
  }

  function Worksheet(data) {
    this.data = data;
    this.name = data.name;
    this.load = function () {};
    var sheet = data;
    Object.defineProperty(this, "visibility", { get: function () { return sheet.visibility; }, set: function (v) { sheet.visibility = v; } });
    Object.defineProperty(this, "position", { set: function (p) { var list = window.__book.sheets; list.splice(list.indexOf(sheet), 1); list.splice(p, 0, sheet); } });
    this.getUsedRangeOrNullObject = function () {
      var keys = Object.keys(sheet.cells).filter(function (k) { var v = sheet.cells[k].value; return v !== null && v !== undefined && v !== ""; });
      if (!keys.length) return { isNullObject: true, load: function () {} };
      var rows = keys.map(function (k) { return parse(k)[0]; }), cols = keys.map(function (k) { return parse(k)[1]; });
      var r0 = Math.min.apply(null, rows), c0 = Math.min.apply(null, cols);
      var range = new Range(sheet, r0, c0, Math.max.apply(null, rows) - r0 + 1, Math.max.apply(null, cols) - c0 + 1);
      range.isNullObject = false;
      return range;
    };
    this.getRangeByIndexes = function (r, c, rows, columns) { return new Range(sheet, r, c, rows, columns); };
    this.notes = {
      add: function (address, text) { var p = parse(address); cell(sheet, p[0], p[1]).note = text; },
      getItem: function (address) { var p = parse(address), x = cell(sheet, p[0], p[1]); return { set content(t) { x.note = t; }, delete: function () { delete x.note; } }; }
    };
    this.freezePanes = { freezeAt: function (where) { sheet.freeze = where; } };
    this.activate = function () { window.__book.active = window.__book.sheets.indexOf(sheet); };
    this.delete = function () { var list = window.__book.sheets; list.splice(list.indexOf(sheet), 1); };
  }

  var worksheets = {
    load: function () { worksheets.items = window.__book.sheets.map(function (s) { return new Worksheet(s); }); },
    items: [],
    getActiveWorksheet: function () { return new Worksheet(window.__book.sheets[window.__book.active]); },
    add: function (name) { var data = { name: name, visibility: "Visible", cells: {}, merges: [] }; window.__book.sheets.push(data); return new Worksheet(data); }
  };
  var context = { workbook: { worksheets: worksheets }, sync: function () { return Promise.resolve(); } };
  window.Excel = { run: function (callback) { return Promise.resolve(callback(context)); } };
  window.Office = { onReady: function (callback) { setTimeout(callback, 0); }, actions: { associate: function () {} } };
})();
