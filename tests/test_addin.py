"""The Excel add-in addin/xlplugin.xlam: package, ribbon XML, the VBA project as other readers see it, configuration.

What Excel itself does with the add-in cannot be run on Linux; these tests check everything that can be read
without Excel: the package against Office Open XML, the ribbon against the RibbonX schema's rules for the
elements used, and xl/vbaProject.bin with independent readers (oletools' olevba and olefile, not the code that
wrote it) and against what Excel wrote into xlwings' own add-in.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import olefile
import pytest
import xlwings

with warnings.catch_warnings():  # oletools 0.60.2 uses pyparsing names that pyparsing 3.3 deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser, decompress_stream

ROOT = Path(__file__).resolve().parent.parent
ADDIN_DIR = ROOT / "addin"
ADDIN = ADDIN_DIR / "xlplugin.xlam"
XLWINGS_DIR = Path(xlwings.__file__).resolve().parent

_spec = importlib.util.spec_from_file_location("xlplugin_addin_build", ADDIN_DIR / "build.py")
build = importlib.util.module_from_spec(_spec)  # addin/build.py, under a name no installed package has
sys.modules[_spec.name] = build  # dataclasses look their module up here
_spec.loader.exec_module(build)

NS_2009 = "http://schemas.microsoft.com/office/2009/07/customui"
NS_2006 = "http://schemas.microsoft.com/office/2006/01/customui"
BUTTONS = {"btnValidate": "校验", "btnClear": "清除标记", "btnTemplate": "新建模板", "btnAbout": "关于"}
CALLBACK = "XlpluginRibbon"
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")  # the ASCII subset of xsd:NCName, which ST_ID/ST_UniqueID use
BUTTON_ATTRIBUTES = {"id", "label", "size", "imageMso", "onAction", "screentip", "supertip"}


@pytest.fixture(scope="module")
def built() -> bytes:
    return build.build_bytes()


@pytest.fixture(scope="module")
def package() -> zipfile.ZipFile:
    return zipfile.ZipFile(ADDIN)


@pytest.fixture(scope="module")
def vba_bin(package) -> bytes:
    return package.read("xl/vbaProject.bin")


@pytest.fixture(scope="module")
def modules_read_back() -> dict[str, str]:
    """Module name -> source, as olevba extracts them from the committed add-in."""
    parser = VBA_Parser(str(ADDIN), data=ADDIN.read_bytes())
    found = {}
    for _, stream_path, vba_filename, code in parser.extract_macros():
        name = stream_path.split("/")[-1]
        assert vba_filename == name + (".bas" if "Attribute VB_Base" not in code else ".cls")
        found[name] = code
    return found


# ---------------------------------------------------------------------------------------------- build


def test_committed_addin_is_what_the_sources_build(built):
    assert ADDIN.read_bytes() == built, "addin/xlplugin.xlam is out of date: run python addin/build.py"
    assert build.build_bytes() == built  # deterministic


def test_zip_entries_have_fixed_timestamps_and_no_compression(package):
    for info in package.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert info.compress_type == zipfile.ZIP_STORED
    assert package.namelist()[0] == "[Content_Types].xml"


# ---------------------------------------------------------------------------------------------- package


CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
PR = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _relationships(package, name: str) -> dict[str, str]:
    root = ElementTree.fromstring(package.read(name))
    return {rel.get("Type"): rel.get("Target") for rel in root.iter(f"{PR}Relationship")}


def test_every_part_is_well_formed_and_has_a_content_type(package):
    types = ElementTree.fromstring(package.read("[Content_Types].xml"))
    defaults = {d.get("Extension"): d.get("ContentType") for d in types.iter(f"{CT}Default")}
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{CT}Override")}
    assert set(package.namelist()) == {
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/core.xml",
        "docProps/app.xml",
        "customUI/customUI.xml",
        "customUI/customUI14.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/worksheets/sheet1.xml",
        "xl/styles.xml",
        "xl/vbaProject.bin",
    }
    for name in package.namelist():
        if name.endswith((".xml", ".rels")):
            ElementTree.fromstring(package.read(name))  # well-formed
        if name != "[Content_Types].xml":
            assert f"/{name}" in overrides or name.rsplit(".", 1)[-1] in defaults, name
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert defaults["bin"] == "application/vnd.ms-office.vbaProject"
    for part in overrides:
        assert part[1:] in package.namelist(), part


def test_relationships(package):
    root = _relationships(package, "_rels/.rels")
    assert root["http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"] == "xl/workbook.xml"
    assert root["http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"] == "customUI/customUI.xml"
    assert root["http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"] == "customUI/customUI14.xml"
    workbook = _relationships(package, "xl/_rels/workbook.xml.rels")
    assert workbook["http://schemas.microsoft.com/office/2006/relationships/vbaProject"] == "vbaProject.bin"
    for target in list(root.values()):
        assert target in package.namelist(), target
    for target in workbook.values():
        assert f"xl/{target}" in package.namelist(), target


def test_workbook_links_its_document_modules(package):
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    assert workbook.find(f"{main}workbookPr").get("codeName") == "ThisWorkbook"
    assert [s.get("name") for s in workbook.iter(f"{main}sheet")] == ["xlplugin"]
    sheet = ElementTree.fromstring(package.read("xl/worksheets/sheet1.xml"))
    assert sheet.find(f"{main}sheetPr").get("codeName") == "Sheet1"


# ---------------------------------------------------------------------------------------------- ribbon


@pytest.mark.parametrize(("part", "namespace"), [("customUI/customUI14.xml", NS_2009), ("customUI/customUI.xml", NS_2006)])
def test_ribbon(package, part, namespace):
    data = package.read(part)
    assert data == (ADDIN_DIR / part).read_bytes().replace(b"\r\n", b"\n")
    root = ElementTree.fromstring(data)
    ns = f"{{{namespace}}}"
    assert root.tag == f"{ns}customUI"
    assert all(element.tag.startswith(ns) for element in root.iter())
    tabs = root.findall(f"{ns}ribbon/{ns}tabs/{ns}tab")
    assert [(tab.get("id"), tab.get("label")) for tab in tabs] == [("tabXlplugin", "决算校验")]
    groups = tabs[0].findall(f"{ns}group")
    assert len(groups) == 1 and groups[0].get("label") == "部门决算公开"
    buttons = list(groups[0])
    assert [b.tag for b in buttons] == [f"{ns}button"] * 4
    assert {b.get("id"): b.get("label") for b in buttons} == BUTTONS
    for button in buttons:
        assert set(button.attrib) <= BUTTON_ATTRIBUTES, button.attrib
        assert button.get("size") == "large"
        assert NCNAME.match(button.get("imageMso"))
        assert button.get("onAction") == CALLBACK
    ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids)) and all(NCNAME.match(i) and i.isascii() for i in ids)  # ST_UniqueID
    for element in root.iter():
        for name, value in element.attrib.items():
            assert 1 <= len(value) <= 1024, (name, value)  # ST_String, ST_Delegate


def test_both_ribbons_are_the_same_apart_from_the_namespace(package):
    def shape(part: str) -> list:
        root = ElementTree.fromstring(package.read(part))
        return [(e.tag.split("}")[1], sorted(e.attrib.items())) for e in root.iter()]

    assert shape("customUI/customUI14.xml") == shape("customUI/customUI.xml")


# ---------------------------------------------------------------------------------------------- VBA as read back


def test_olevba_reads_back_every_module_as_its_source(modules_read_back):
    sources = {module.name: module.source.decode("ascii") for module in build.read_modules()}
    assert (
        set(modules_read_back)
        == set(sources)
        == {
            "ThisWorkbook",
            "Sheet1",
            "XlpluginMain",
            "xlwings",
            "Remote",
            "WebHelpers",
            "Dictionary",
            "IWebAuthenticator",
            "WebClient",
            "WebRequest",
            "WebResponse",
        }
    )
    for name, code in modules_read_back.items():
        assert code == sources[name], name
    exported = (ADDIN_DIR / "vba" / "XlpluginMain.bas").read_text(encoding="ascii")
    assert modules_read_back["XlpluginMain"].replace("\r\n", "\n") == exported


def _procedures(code: str) -> dict[str, tuple[str, str]]:
    """Sub name -> (parameter list, body) of a module's Subs."""
    found = {}
    pattern = r"^(?:Public |Private )?Sub (\w+)\(([^)]*)\)\r?\n(.*?)^End Sub"
    for match in re.finditer(pattern, code, re.M | re.S):
        found[match.group(1)] = (match.group(2), match.group(3))
    return found


def test_every_on_action_is_a_public_sub_taking_the_ribbon_control(package, modules_read_back):
    callbacks = set()
    for part in ("customUI/customUI14.xml", "customUI/customUI.xml"):
        callbacks |= {e.get("onAction") for e in ElementTree.fromstring(package.read(part)).iter() if e.get("onAction")}
    assert callbacks == {CALLBACK}
    for callback in callbacks:
        defining = [name for name, code in modules_read_back.items() if callback in _procedures(code)]
        assert defining == ["XlpluginMain"], defining  # one standard module, no ambiguity
        assert callback not in modules_read_back  # a module of the same name would shadow it
        code = modules_read_back["XlpluginMain"]
        assert re.search(rf"^Public Sub {callback}\(control As IRibbonControl\)", code, re.M)


def test_the_dispatcher_passes_the_button_id_to_on_ribbon(modules_read_back):
    subs = _procedures(modules_read_back["XlpluginMain"])
    assert subs[CALLBACK][1].strip() == "XlpluginRun control.ID"
    parameters, body = subs["XlpluginRun"]
    assert parameters == "ByVal controlId As String"
    command = """RunPython "import xlplugin.excel.ribbon as r; r.on_ribbon('" & controlId & "')\""""
    assert command in body
    # The Python that RunPython gets for each button calls on_ribbon with exactly that id.
    for button in BUTTONS:
        python = f"import xlplugin.excel.ribbon as r; r.on_ribbon('{button}')"
        call = ast.parse(python).body[1].value
        assert ast.unparse(call.func) == "r.on_ribbon" and [a.value for a in call.args] == [button]
    import xlplugin.excel.ribbon as ribbon

    assert callable(ribbon.on_ribbon)


def test_a_server_url_in_the_config_switches_the_buttons_to_the_server(modules_read_back):
    code = modules_read_back["XlpluginMain"]
    assert 'Public Const XLPLUGIN_SERVER_URL_KEY As String = "XLPLUGIN_SERVER_URL"' in code
    body = _procedures(code)["XlpluginRun"][1]
    assert 'serverUrl = Trim$(GetConfig(XLPLUGIN_SERVER_URL_KEY, ""))' in body
    local, server = body.split('If serverUrl = "" Then')[1].split("Else", 1)
    assert "RunPython" in local and "RunServerPython" not in local
    assert 'RunServerPython serverUrl & "/" & controlId' in server
    # RunServerPython is xlwings' (module Remote), reachable from the add-in.
    assert re.search(r"^Function RunServerPython\(", modules_read_back["Remote"], re.M)


def test_only_ribbon_ids_reach_the_python_command_line(modules_read_back):
    body = _procedures(modules_read_back["XlpluginMain"])["XlpluginRun"][1]
    check = body.index("If Not IsButtonId(controlId) Then\r\n        Exit Sub")
    assert check < body.index("RunPython") and check < body.index("RunServerPython") and check < body.index("Workbooks.Add")
    assert 'c Like "[A-Za-z0-9_]"' in modules_read_back["XlpluginMain"]
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", button) for button in BUTTONS)


def test_chinese_messages_in_the_vba_are_code_points_of_the_right_text(modules_read_back):
    texts = re.findall(r'ChineseText\("([\d ]+)"\)', modules_read_back["XlpluginMain"])
    assert ["".join(chr(int(c)) for c in t.split()) for t in texts] == ["请先打开要校验的工作簿。", "决算校验"]


def test_vba_sources_are_ascii():
    for path in sorted((ADDIN_DIR / "vba").iterdir()):
        path.read_bytes().decode("ascii")


# ---------------------------------------------------------------------------------------------- vbaProject.bin


def _dir_records(vba_bin: bytes) -> list[tuple[int, bytes]]:
    ole = olefile.OleFileIO(io.BytesIO(vba_bin))
    data = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    records, i = [], 0
    while i < len(data):
        record_id, size = struct.unpack_from("<HI", data, i)
        if record_id == 0x0009:  # PROJECTVERSION: its size field is Reserved (4) and 6 bytes follow
            size = 6
        records.append((record_id, data[i + 6 : i + 6 + size]))
        i += 6 + size
    return records


def _excel_made_vba() -> bytes:
    """xl/vbaProject.bin of xlwings' own add-in, as Excel saved it."""
    return zipfile.ZipFile(XLWINGS_DIR / "addin" / "xlwings.xlam").read("xl/vbaProject.bin")


def test_compound_file_is_well_formed(vba_bin):
    ole = olefile.OleFileIO(io.BytesIO(vba_bin), raise_defects=olefile.DEFECT_INCORRECT)
    names = {"/".join(path) for path in ole.listdir(streams=True, storages=True)}
    assert {"PROJECT", "PROJECTwm", "VBA", "VBA/_VBA_PROJECT", "VBA/dir", "VBA/ThisWorkbook"} <= names
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")  # version 0xFFFF, no cache

    def key(entry) -> tuple[int, str]:
        return len(entry.name), entry.name.upper()  # [MS-CFB] 2.6.4: length first, then upper-cased

    def walk(sid: int) -> tuple[list, int]:
        """In-order entries and black height of the sibling tree at `sid`, checking the red-black rules."""
        if sid == olefile.NOSTREAM:
            return [], 1
        entry = ole.direntries[sid]
        if entry.color == 0:  # red
            for child in (entry.sid_left, entry.sid_right):
                assert child == olefile.NOSTREAM or ole.direntries[child].color == 1, "red node with a red child"
        (left, left_height), (right, right_height) = walk(entry.sid_left), walk(entry.sid_right)
        assert left_height == right_height, "unequal black heights"
        return left + [entry] + right, left_height + (entry.color == 1)

    for entry in ole.direntries:
        if entry is not None and entry.entry_type in (1, 5):
            assert entry.sid_child == olefile.NOSTREAM or ole.direntries[entry.sid_child].color == 1
            siblings, _ = walk(entry.sid_child)
            assert [key(e) for e in siblings] == sorted(key(e) for e in siblings) and len(siblings) == len(entry.kids)


def test_dir_stream_has_the_records_excel_writes(vba_bin):
    ours, excel = _dir_records(vba_bin), _dir_records(_excel_made_vba())

    def sections(records):
        ids = [r for r, _ in records]
        first_reference = ids.index(0x0016)
        modules = ids.index(0x000F)
        return ids[:first_reference], ids[modules:]

    (our_info, our_modules), (excel_info, excel_modules) = sections(ours), sections(excel)
    assert our_info == excel_info  # PROJECTINFORMATION, record by record
    module_ids = [0x0019, 0x0047, 0x001A, 0x0032, 0x001C, 0x0048, 0x0031, 0x001E, 0x002C]
    for ids in (our_modules, excel_modules):
        assert ids[:2] == [0x000F, 0x0013] and ids[-1] == 0x0010
        body = ids[2:-1]
        assert len(body) % 11 == 0
        for i in range(0, len(body), 11):
            assert body[i : i + 9] == module_ids and body[i + 9] in (0x0021, 0x0022) and body[i + 10] == 0x002B

    values = dict(ours)
    assert values[0x0003] == struct.pack("<H", 1252) and values[0x0004] == b"xlplugin"
    references = [data for record, data in ours if record == 0x000D]
    assert [b"{00020430-0000-0000-C000-000000000046}" in r for r in references] == [True, False]
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#" in references[1]  # Office: IRibbonControl

    kinds, offsets, name = {}, {}, None
    for record, data in ours:
        if record == 0x0019:
            name = data.decode("ascii")
        elif record == 0x0031:
            offsets[name] = struct.unpack("<I", data)[0]
        elif record in (0x0021, 0x0022):
            kinds[name] = record
    assert set(offsets.values()) == {0}  # source only: Excel compiles it on load
    expected = {m.name: (0x0021 if m.kind == "procedural" else 0x0022) for m in build.read_modules()}
    assert kinds == expected and kinds["XlpluginMain"] == 0x0021 and kinds["Dictionary"] == 0x0022


def _decrypt(data: bytes) -> tuple[int, bytes]:
    """[MS-OVBA] 2.4.3.3 decryption; returns the project key and the data."""
    seed, version_enc, key_enc = data[0], data[1], data[2]
    assert version_enc ^ seed == 2
    unencrypted_1, encrypted_1, encrypted_2 = key_enc ^ seed, key_enc, version_enc
    out = bytearray()
    for byte_enc in data[3:]:
        byte = byte_enc ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(byte)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    ignored = (seed & 6) // 2
    length = struct.unpack("<I", bytes(out[ignored : ignored + 4]))[0]
    payload = bytes(out[ignored + 4 :])
    assert len(payload) == length
    return key_enc ^ seed, payload


def _project_lines(vba_bin: bytes) -> list[str]:
    return olefile.OleFileIO(io.BytesIO(vba_bin)).openstream("PROJECT").read().decode("cp1252").split("\r\n")


def test_project_stream(vba_bin):
    # The decryption reads what Excel wrote for an unprotected project (xlwings' quickstart add-in).
    quickstart = zipfile.ZipFile(XLWINGS_DIR / "quickstart_addin_ribbon.xlam").read("xl/vbaProject.bin")
    excel = dict(line.split("=", 1) for line in _project_lines(quickstart) if line[:3] in ("CMG", "DPB", "GC="))
    assert {key: _decrypt(bytes.fromhex(value.strip('"')))[1] for key, value in excel.items()} == {
        "CMG": b"\x00\x00\x00\x00",
        "DPB": b"\x00",
        "GC": b"\xff",
    }
    lines = _project_lines(vba_bin)
    project_id = lines[0].split("=", 1)[1].strip('"')
    assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", project_id)
    modules = build.read_modules()
    assert lines[1 : 1 + len(modules)] == [
        {"document": f"Document={m.name}/&H00000000", "procedural": f"Module={m.name}", "class": f"Class={m.name}"}[m.kind]
        for m in modules
    ]
    assert lines[1:3] == ["Document=ThisWorkbook/&H00000000", "Document=Sheet1/&H00000000"]
    values = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("&H"))
    assert values["Name"] == '"xlplugin"' and values["VersionCompatible32"] == '"393222000"'
    expected = {"CMG": b"\x00\x00\x00\x00", "DPB": b"\x00", "GC": b"\xff"}  # unprotected, no password, visible
    for key, data in expected.items():
        project_key, payload = _decrypt(bytes.fromhex(values[key].strip('"')))
        assert payload == data and project_key == sum(project_id.encode()) & 0xFF
    assert "[Host Extender Info]" in lines and "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000" in lines


def test_document_and_class_modules_are_stored_as_excel_stores_them(modules_read_back):
    """The attribute block VBE writes when it stores a class or document module, compared with xlwings' add-in."""
    excel = {}
    parser = VBA_Parser("xlwings.xlam", data=(XLWINGS_DIR / "addin" / "xlwings.xlam").read_bytes())
    for _, stream_path, _, code in parser.extract_macros():
        excel[stream_path.split("/")[-1]] = code
    for name in ("ThisWorkbook", "Sheet1", "Dictionary", "IWebAuthenticator", "WebRequest", "WebResponse"):
        assert modules_read_back[name] == excel[name], name


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"a",
        b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        b"~" * 10000,  # long runs: the case ms-ovba-compression 1.0.1 gets wrong
        bytes(range(256)) * 16,  # exactly 4096 bytes that do not compress: a raw chunk
        bytes(range(256)) * 16 + b"tail",
        (b'Attribute VB_Name = "x"\r\n' + b"' " + b"=" * 70 + b"\r\n") * 300,
    ],
)
def test_compression_reads_back_with_olevba(data):
    compressed = build.compress(data)
    assert bytes(decompress_stream(bytearray(compressed))) == data


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_imports_the_vba_project(tmp_path):
    """A second, independent reader: LibreOffice imports the modules into a Basic library (it opens no .xlam,
    so it reads a copy declared as .xlsm) and writes them into the .ods it converts to."""
    copy = tmp_path / "xlplugin.xlsm"
    with zipfile.ZipFile(ADDIN) as source, zipfile.ZipFile(copy, "w") as target:
        for name in source.namelist():
            data = source.read(name).replace(b"addin.macroEnabled.main+xml", b"sheet.macroEnabled.main+xml")
            target.writestr(name, data)
    profile = (tmp_path / "profile").as_uri()
    command = ["soffice", f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", "ods"]
    subprocess.run([*command, "--outdir", str(tmp_path), str(copy)], capture_output=True, timeout=300, check=True)
    with zipfile.ZipFile(tmp_path / "xlplugin.ods") as ods:
        kinds = {}
        for name in ods.namelist():
            if name.startswith("Basic/xlplugin/") and not name.endswith("script-lb.xml"):
                text = ods.read(name).decode("utf-8")
                kinds[name.split("/")[-1][:-4]] = re.search(r'script:moduleType="(\w+)"', text).group(1)
        main = ods.read("Basic/xlplugin/XlpluginMain.xml").decode("utf-8")
    expected = {"document": "document", "procedural": "normal", "class": "class"}
    assert kinds == {m.name: expected[m.kind] for m in build.read_modules()}
    assert "Public Sub XlpluginRibbon(control As IRibbonControl)" in main


def test_module_sources_compress_and_read_back(vba_bin):
    ole = olefile.OleFileIO(io.BytesIO(vba_bin))
    for module in build.read_modules():
        stream = ole.openstream(f"VBA/{module.name}").read()
        assert bytes(decompress_stream(bytearray(stream))) == module.source


# ---------------------------------------------------------------------------------------------- configuration


def test_config_file_location(modules_read_back):
    code = modules_read_back["xlwings"]
    assert 'Public Const PROJECT_NAME As String = "xlplugin"' in code
    windows = 'GetConfigFilePath = Environ("USERPROFILE") & "\\." & PROJECT_NAME & "\\" & PROJECT_NAME & ".conf"'
    mac = 'GetConfigFilePath = GetMacDir("$HOME", False) & "/" & PROJECT_NAME & ".conf"'
    assert windows in code and mac in code
    evaluated = (
        windows.split(" = ", 1)[1].replace('Environ("USERPROFILE")', '"%USERPROFILE%"').replace("PROJECT_NAME", '"xlplugin"')
    )
    assert "".join(re.findall(r'"([^"]*)"', evaluated)) == "%USERPROFILE%\\.xlplugin\\xlplugin.conf"


def test_config_is_read_from_the_user_file_only(modules_read_back):
    code = modules_read_back["xlwings"]
    get_config = code[code.index("Function GetConfig(configKey As String") :]
    get_config = get_config[: get_config.index("End Function")]
    lines = [line.strip() for line in get_config.splitlines()]
    patch = lines.index(
        'If source = "" Then source = "user" \' xlplugin: the user config file only, never the workbook\'s sheet or folder'
    )
    first_layer = next(i for i, line in enumerate(lines) if line.startswith("If source ="))
    assert patch == first_layer  # before the sheet and directory layers are considered
    assert 'If source = "" Or source = "user" Then' in lines


def test_config_file_format_is_vba_input(modules_read_back):
    code = modules_read_back["xlwings"]
    reader = code[code.index("Function GetConfigFromFile(") :]
    reader = reader[: reader.index("End Function")]
    assert "Open sFile For Input As iFileNum" in reader  # bytes in the ANSI code page
    assert "Input #iFileNum, sVarName, sVarValue" in reader  # "KEY","VALUE" pairs
    assert "If LCase(sVarName) = LCase(sName) Then" in reader and "Exit Do" in reader  # case-insensitive, first wins


def test_every_config_key_is_documented(modules_read_back):
    used = set()
    for code in modules_read_back.values():
        used |= set(re.findall(r'GetConfig\("([^"]+)"', code))
    used.add(re.search(r'XLPLUGIN_SERVER_URL_KEY As String = "([^"]+)"', modules_read_back["XlpluginMain"]).group(1))
    doc = build.__doc__
    keys_section = doc[doc.index("Keys (every GetConfig key") :]
    missing = sorted(key for key in used if not re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", keys_section))
    assert not missing, f"config keys used by the VBA but not documented in addin/build.py: {missing}"
    for key in ("XLPLUGIN_SERVER_URL", "INTERPRETER_WIN", "INTERPRETER_MAC", "PYTHONPATH"):
        assert key in used


# ---------------------------------------------------------------------------------------------- xlwings' VBA


def test_vendored_xlwings_vba_is_the_installed_xlwings(modules_read_back):
    vendored_version = re.search(r"^'Version: (\S+)", modules_read_back["xlwings"], re.M).group(1)
    assert vendored_version == xlwings.__version__, (
        f"addin/vba holds xlwings {vendored_version}'s VBA but xlwings {xlwings.__version__} is installed: "
        "the add-in's RunPython must match the Python side; pin xlwings or run python addin/build.py --vendor"
    )
    for target in build.VENDORED:
        assert (ADDIN_DIR / "vba" / target).read_bytes() == build.vendored_text(target, XLWINGS_DIR), target
    patched = (ADDIN_DIR / "vba" / "xlwings.bas").read_text(encoding="ascii")
    original = (XLWINGS_DIR / "xlwings_custom_addin.bas").read_text(encoding="ascii")
    assert len(patched.splitlines()) == len(original.splitlines()) + 1  # exactly the two documented changes
