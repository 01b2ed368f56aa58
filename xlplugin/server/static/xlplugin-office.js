// xlplugin's Office.js client (Excel 365 / Excel on the web): send the workbook to the
// xlplugin server in the JSON that xlwings' remote engine reads, and apply the actions
// the server answers with (fills, notes, the 审核结果 sheet, the template's sheets).
// Used by taskpane.html (four buttons and a status line) and commands.html (the ribbon
// buttons of manifest.xml). Needs ExcelApi 1.18 for notes; without it the fills and the
// 审核结果 sheet still arrive and the status line says the notes could not be added.
/* global Excel, Office */
var xlplugin = (function () {
  "use strict";

  var XLWINGS_VERSION = "0.37.8";
  var MAX_CELLS = 5000000;  // as xlplugin/io/readers.py MAX_CELLS
  var messages = [];

  function columnName(index) {
    var name = "";
    index += 1;
    while (index > 0) {
      var rest = (index - 1) % 26;
      name = String.fromCharCode(65 + rest) + name;
      index = Math.floor((index - 1) / 26);
    }
    return name;
  }

  // The request body: per sheet its values from A1 to the last used cell ("" = blank).
  async function bookData(context) {
    var sheets = context.workbook.worksheets;
    sheets.load("items/name,items/visibility");
    var active = sheets.getActiveWorksheet();
    active.load("name");
    await context.sync();
    var used = sheets.items.map(function (sheet) {
      var range = sheet.getUsedRangeOrNullObject(true);
      range.load("rowIndex,columnIndex,rowCount,columnCount,address");
      return range;
    });
    await context.sync();
    // Values only where the grid from A1 is small enough to check: one stray value in XFD1048576
    // would have Excel load billions of cells. A larger sheet goes without its values, and the
    // server answers with which sheet it is and what to do (xlplugin/io/readers.py MAX_CELLS).
    var small = used.map(function (range) {
      return !range.isNullObject && (range.rowIndex + range.rowCount) * (range.columnIndex + range.columnCount) <= MAX_CELLS;
    });
    used.forEach(function (range, i) { if (small[i]) { range.load("values"); } });
    await context.sync();
    var names = sheets.items.map(function (sheet) { return sheet.name; });
    return {
      client: "Office.js",
      version: XLWINGS_VERSION,
      book: { name: "workbook", active_sheet_index: names.indexOf(active.name), selection: null, calculation: "Automatic" },
      names: [],
      sheets: sheets.items.map(function (sheet, i) {
        var range = used[i], values = [[""]], address = null, rows = 0, columns = 0;
        if (small[i]) {
          var loaded = range.values, height = range.rowIndex + range.rowCount, width = range.columnIndex + range.columnCount;
          values = [];
          for (var r = 0; r < height; r++) {
            var line = [];
            for (var c = 0; c < width; c++) {
              var inside = r >= range.rowIndex && c >= range.columnIndex;
              line.push(inside ? loaded[r - range.rowIndex][c - range.columnIndex] : "");
            }
            values.push(line);
          }
        }
        if (!range.isNullObject) {
          address = range.address.split("!").pop().replace(/\$/g, "");
          rows = range.rowCount;
          columns = range.columnCount;
        }
        return {
          name: sheet.name, visibility: sheet.visibility, print_area: null, notes: [], notes_supported: true,
          used_range_address: address, used_range_row_count: rows, used_range_column_count: columns,
          values: values, pictures: [], shapes: [], charts: [], tables: [], show_gridlines: true, pivot_tables: []
        };
      })
    };
  }

  async function sheetAt(context, position) {
    var sheets = context.workbook.worksheets;
    sheets.load("items/name");
    await context.sync();
    return sheets.items[position];
  }

  // One function per action the xlplugin server emits (xlwings/pro/_xlremote.py names).
  var apply = {
    setValues: function (context, sheet, action) { range(sheet, action).values = action.values; },
    setRangeColor: function (context, sheet, action) {
      var fill = range(sheet, action).format.fill;
      if (action.args[0]) { fill.color = action.args[0]; } else { fill.clear(); }
    },
    setFontProperty: function (context, sheet, action) { range(sheet, action).format.font[action.args[0]] = action.args[1]; },
    setNumberFormat: function (context, sheet, action) { range(sheet, action).numberFormat = [[action.args[0]]]; },
    setColumnWidth: function (context, sheet, action) { range(sheet, action).format.columnWidth = action.args[0]; },
    rangeMerge: function (context, sheet, action) { range(sheet, action).merge(action.args[0]); },
    addHyperlink: function (context, sheet, action) {
      var target = action.args[0];
      var link = target.charAt(0) === "#" ? { documentReference: target.slice(1) } : { address: target };
      link.textToDisplay = action.args[1];
      range(sheet, action).hyperlink = link;
    },
    addNote: function (context, sheet, action) { addNote(sheet, action.args[0], action.args[1]); },
    setNoteText: function (context, sheet, action) { sheet.notes.getItem(action.args[0]).content = action.args[1]; },
    deleteNote: function (context, sheet, action) { sheet.notes.getItem(action.args[0]).delete(); },
    freezePaneAtRange: function (context, sheet, action) { sheet.freezePanes.freezeAt(action.args[0]); },
    setSheetVisibility: function (context, sheet, action) { sheet.visibility = action.args[0]; },
    sheetDelete: function (context, sheet) { sheet.delete(); },
    activateSheet: function (context, sheet) { sheet.activate(); },
    addSheet: function (context, sheet, action) {
      var added = context.workbook.worksheets.add(action.args[1]);
      added.position = action.args[0];
    },
    alert: function (context, sheet, action) { messages.push(action.args[0]); }
  };

  function range(sheet, action) {
    return sheet.getRangeByIndexes(action.start_row, action.start_column, action.row_count, action.column_count);
  }

  function addNote(sheet, address, text) {
    if (!sheet.notes) { messages.push("此版本的 Excel 不支持批注接口（ExcelApi 1.18），问题单元格已着色，说明见“审核结果”页。"); return; }
    sheet.notes.add(address.replace(/\$/g, ""), text);
  }

  async function runActions(context, actions) {
    for (var i = 0; i < actions.length; i++) {
      var action = actions[i];
      var handler = apply[action.func];
      if (!handler) { throw new Error("不支持的操作：" + action.func); }
      var target = action.sheet_position === null || action.sheet_position === undefined
        ? (action.func === "activateSheet" ? await sheetAt(context, action.args[0]) : null)
        : await sheetAt(context, action.sheet_position);
      handler(context, target, action);
      await context.sync();
    }
  }

  // Send the workbook to <server>/<button id> and apply the answer; resolves to the messages.
  async function run(button, server, token) {
    messages = [];
    await Excel.run(async function (context) {
      var payload = await bookData(context);
      var headers = { "Content-Type": "application/json" };
      if (token) { headers["X-Token"] = token; }
      var response = await fetch((server || ".") + "/" + button, { method: "POST", headers: headers, body: JSON.stringify(payload) });
      if (!response.ok) {
        var detail = await response.json().catch(function () { return {}; });
        throw new Error(detail.detail || response.statusText);
      }
      var answer = await response.json();
      await runActions(context, answer.actions);
    });
    return messages;
  }

  return { run: run, bookData: bookData, runActions: runActions, columnName: columnName };
})();
