#!/usr/bin/env python3
"""Build addin/xlplugin.xlam, the Excel add-in with the 决算校验 ribbon tab, from the text sources beside this file.

    python addin/build.py            # (re)writes addin/xlplugin.xlam
    python addin/build.py --check    # exit 1 if the committed xlplugin.xlam is not what the sources build
    python addin/build.py --vendor   # refresh the xlwings modules in addin/vba/ from the installed xlwings

Standard library only, deterministic: the same sources give the same bytes on every machine (fixed zip
timestamps and attributes, entries stored uncompressed so no zlib version matters, fixed project GUID and
obfuscation seeds).

Sources
-------
customUI/customUI14.xml   ribbon for Excel 2010+ (namespace http://schemas.microsoft.com/office/2009/07/customui)
customUI/customUI.xml     ribbon for Excel 2007 (namespace http://schemas.microsoft.com/office/2006/01/customui)
vba/ThisWorkbook.cls, vba/Sheet1.cls   the document modules of the add-in's workbook (no code)
vba/XlpluginMain.bas      xlplugin's module: XlpluginRibbon, the one onAction of all four buttons, runs
                          RunPython "import xlplugin.excel.ribbon as r; r.on_ribbon('<button id>')",
                          or RunServerPython "<XLPLUGIN_SERVER_URL>/<button id>" when that key is set
vba/xlwings.bas           xlwings' custom add-in module (xlwings/xlwings_custom_addin.bas: RunPython, config),
                          two lines changed by --vendor: PROJECT_NAME = "xlplugin", and GetConfig reads the
                          user config file only (see Configuration)
vba/Remote.bas, WebHelpers.bas, Dictionary.cls, IWebAuthenticator.cls, WebClient.cls, WebRequest.cls,
WebResponse.cls           xlwings' RunServerPython and the VBA-Web / VBA-Dictionary classes it uses, verbatim
                          from xlwings/addin/ (the same modules as xlwings' own add-in)
The VBA is xlwings 0.37.8's and calls the Python side of the same xlwings version (xlwings.utils.prepare_sys_path;
on macOS the AppleScript xlwings-0.37.8.applescript): keep the installed xlwings at that version, or re-vendor.

What is built
-------------
An Office Open XML add-in package: [Content_Types].xml (xl/workbook.xml is
application/vnd.ms-excel.addin.macroEnabled.main+xml), _rels/.rels (officeDocument, core and extended
properties, customUI/customUI.xml as http://schemas.microsoft.com/office/2006/relationships/ui/extensibility,
customUI/customUI14.xml as http://schemas.microsoft.com/office/2007/relationships/ui/extensibility), a workbook
with one sheet "xlplugin" (codeName Sheet1; an add-in's sheets are never shown), styles, docProps and
xl/vbaProject.bin (relationship http://schemas.microsoft.com/office/2006/relationships/vbaProject).

xl/vbaProject.bin is written here from the VBA text as [MS-OVBA] specifies for a writer: a compound file
([MS-CFB] version 3) with the streams PROJECT, PROJECTwm, VBA/_VBA_PROJECT, VBA/dir and one stream per module.
_VBA_PROJECT is the 7-byte header with Version 0xFFFF and no performance cache, and every module stream holds
only its compressed source (MODULEOFFSET 0), so Excel compiles the source when it loads the add-in; this is how
xlwings ships its own modules (its add-ins carry source-only modules and the same _VBA_PROJECT header). The dir
stream has the records, in the order, of an Excel-saved project: project information (code page 1252, the
project name "xlplugin"), references to stdole and the Office object library (IRibbonControl, msoPicture),
then the modules. The PROJECT stream lists the modules, Name="xlplugin", VersionCompatible32, unprotected
(CMG/DPB/GC obfuscated per [MS-OVBA] 2.4.3), the VBE host extender and a workspace line per module.
The VBA sources must be ASCII (checked), so they read the same in any code page: Chinese text in VBA is
built with ChrW from code points.

The PyPI package ms-ovba 0.0.1 (with ms-ovba-compression 1.0.1) was tried for this and rejected: its compressor
emits copy tokens longer than [MS-OVBA] allows (MaximumLength computed as 0xFFFF << (BitCount + 3) instead of
(0xFFFF >> BitCount) + 3), so modules with long repeats (license headers, '~~~' rules) read back as garbage with
olevba (xlwings' 45,838-byte module came back as 40,126 bytes, wrong from byte 590); it also has no class
modules, writes the stored source in the locale's encoding and writes its intermediate files into the working
directory. Its author reports that the add-ins it builds open in Excel but their macros do not run.

Verification
------------
Checked on Linux (tests/test_addin.py): the package parts, content types and relationships; both ribbon files
against the RibbonX schema's rules for the elements used; olevba (oletools) and olefile, in strict mode, read
xl/vbaProject.bin back with every module byte for byte; the compound file's directory trees are ordered and
coloured as [MS-CFB] requires; the dir stream's records are those, in the order, of the vbaProject.bin Excel
saved in xlwings' own add-in, and the document and class modules are stored exactly as Excel stored the same
modules there; the PROJECT stream's obfuscated fields decrypt to "unprotected, no password, visible" with the
algorithm that decrypts Excel's own values. Checked once by hand: LibreOffice 7.4's independent importer loads
all eleven modules with the right types from a copy of the add-in saved as .xlsm (LibreOffice does not open .xlam).
Not checked, because it needs desktop Excel: that Excel loads the add-in and compiles its VBA without an error,
shows the tab, and that a button runs Python through RunPython (Windows, macOS) or reaches a server.

Configuration (read by the VBA, written by install.py)
------------------------------------------------------
Location (GetConfigFilePath in vba/xlwings.bas, PROJECT_NAME = "xlplugin"):
    Windows: %USERPROFILE%\\.xlplugin\\xlplugin.conf
    macOS:   <Excel's sandbox home>/xlplugin.conf, i.e. ~/Library/Containers/com.microsoft.Excel/Data/xlplugin.conf
             (xlwings' choice: Excel for Mac is sandboxed and cannot read ~/.xlplugin/ without asking)
Format: one pair per line, both fields in double quotes, comma-separated, CRLF line ends:
    "INTERPRETER_WIN","C:\\Users\\张会计\\.xlplugin\\venv\\Scripts\\pythonw.exe"
    "XLPLUGIN_SERVER_URL",""
This is what VBA's `Write #` produces and `Input #` reads (GetConfigFromFile): keys are compared
case-insensitively, the first matching line wins, a value cannot contain a double quote, there are no comments
and no blank lines, and there is no byte-order mark. VBA reads the file in the ANSI code page of Windows
(code page 936 = GBK on Chinese Windows): a path with Chinese characters must be written in that code page, not
UTF-8. On macOS, keep the values ASCII (not verified otherwise). Every value then goes through
ExpandEnvironmentStrings (%USERPROFILE% etc. on Windows; a leading $HOME/... on macOS). Missing keys take the
defaults below. xlwings' GetConfig would also consult a sheet "xlplugin.conf" in the active workbook or in the
add-in and a file "xlplugin.conf" beside the active workbook, before the user file; xlplugin's copy reads the
user file only, because the workbooks it checks come from elsewhere and must not be able to choose the Python
that runs or the server that receives them.

Keys (every GetConfig key of the VBA; tests/test_addin.py checks this list is complete):
    XLPLUGIN_SERVER_URL    empty/missing (default): the buttons run the local Python through RunPython;
                           set to a URL: the buttons post the workbook to <URL>/<button id> (RunServerPython)
    INTERPRETER_WIN        python.exe/pythonw.exe to run on Windows (default: INTERPRETER, else "python" on PATH)
    INTERPRETER_MAC        python on macOS (default: INTERPRETER, else "python")
    INTERPRETER            legacy fallback for both
    PYTHONPATH             extra sys.path entries, ";"-separated
    ADD_WORKBOOK_TO_PYTHONPATH   "true" (default) adds the active workbook's folder to sys.path
    CONDA PATH, CONDA ENV  run Python in that conda environment (Windows)
    SHOW CONSOLE           "True" shows the console window of the Python process (default False)
    USE UDF SERVER         "True" runs RunPython in the COM server (needs xlwings64-0.37.8.dll; default False)
    UDF MODULES, DEBUG UDFS, LICENSE_KEY   xlwings UDF settings (xlplugin defines no UDFs)
    SHOW_ERROR_POPUPS      "False" writes Python errors to a sheet "Error" instead of a message box (default True)
    TEMP DIR               folder for the error log of a run (default %TEMP%)
    ONEDRIVE_CONSUMER_WIN, ONEDRIVE_COMMERCIAL_WIN, SHAREPOINT_WIN, ONEDRIVE_CONSUMER_MAC,
    ONEDRIVE_COMMERCIAL_MAC, SHAREPOINT_MAC   local roots of synced OneDrive/SharePoint folders
    AUTH, API_KEY          Authorization header sent to the server (API_KEY: deprecated name)
    TIMEOUT                server request timeout in ms (default 30000)
    INCLUDE, EXCLUDE       comma-separated sheet names whose values are (not) sent to the server
    PROXY_SERVER, PROXY_BYPASS_LIST, PROXY_USERNAME, PROXY_PASSWORD, ENABLE_AUTO_PROXY, INSECURE,
    FOLLOW_REDIRECTS       HTTP settings of the server request
    AZUREAD_TENANT_ID, AZUREAD_CLIENT_ID, AZUREAD_PORT, AZUREAD_SCOPES, AZUREAD_USERNAME, CLI_PATH,
    AZUREAD_ACCESS_TOKEN_<client id>, AZUREAD_ACCESS_TOKEN_EXPIRES_ON_<client id>
                           xlwings' Azure AD token helper (GetAzureAdAccessToken), unused by xlplugin
"""

from __future__ import annotations

import argparse
import hashlib
import re
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
VBA_DIR = HERE / "vba"
CUSTOM_UI_DIR = HERE / "customUI"
OUTPUT = HERE / "xlplugin.xlam"

PROJECT_NAME = "xlplugin"
PROJECT_ID = "{6B2C5E0A-3D41-4F8B-9C7E-1A5D2F8B4C90}"  # fixed: part of the PROJECT stream's obfuscation key
CODE_PAGE = 1252
SHEET_NAME = "xlplugin"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# Document modules of an Excel workbook (VB_Base GUIDs) and of a class module.
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"

# The references of xlwings' own add-in: stdole and the Office object library (IRibbonControl).
# VBA binds a registered type library by GUID and major version, so 2.0 finds Office 2007's 2.4 up to 2.8.
REFERENCES = (
    ("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation"),
    (
        "Office",
        r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL"
        "#Microsoft Office 16.0 Object Library",
    ),
)

# What --vendor copies from the installed xlwings package (target name: source path in the package).
VENDORED = {
    "xlwings.bas": "xlwings_custom_addin.bas",
    "Remote.bas": "addin/Remote.bas",
    "WebHelpers.bas": "addin/WebHelpers.bas",
    "Dictionary.cls": "addin/Dictionary.cls",
    "IWebAuthenticator.cls": "addin/IWebAuthenticator.cls",
    "WebClient.cls": "addin/WebClient.cls",
    "WebRequest.cls": "addin/WebRequest.cls",
    "WebResponse.cls": "addin/WebResponse.cls",
}
# The two changes to xlwings_custom_addin.bas (old line, new line).
XLWINGS_PATCHES = (
    ('Public Const PROJECT_NAME As String = "myaddin"', 'Public Const PROJECT_NAME As String = "xlplugin"'),
    (
        "    Dim configValue As String",
        "    Dim configValue As String\r\n"
        '    If source = "" Then source = "user" \' xlplugin: the user config file only, never the workbook\'s sheet or folder',
    ),
)

CONTENT_TYPES = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
REL_UI_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
REL_UI_2007 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"


# --------------------------------------------------------------------------------------------------
# VBA modules
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    name: str
    kind: str  # "document", "procedural" or "class"
    source: bytes  # as stored in the module stream: CRLF lines, code page 1252

    @property
    def project_line(self) -> str:
        return {
            "document": f"Document={self.name}/&H00000000",
            "procedural": f"Module={self.name}",
            "class": f"Class={self.name}",
        }[self.kind]


_ATTRIBUTE = re.compile(r"^Attribute (VB_\w+) = (.*)$")


def read_module(path: Path) -> Module:
    """A .bas or .cls file as VBE exports it, turned into what VBA stores in the module stream."""
    text = path.read_bytes().decode("ascii")  # ASCII is the same in every code page VBA may read it in
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if lines and lines[0].startswith("VERSION ") and "END" in lines:
        lines = lines[lines.index("END") + 1 :]  # the exported class header is not part of the stored source
    attributes: dict[str, str] = {}
    while lines and (match := _ATTRIBUTE.match(lines[0])):
        attributes[match.group(1)] = match.group(2)
        lines.pop(0)
    if "VB_Name" not in attributes:
        raise ValueError(f'{path.name}: the first line must be Attribute VB_Name = "..."')
    name = attributes["VB_Name"].strip('"')
    if name != path.stem:
        raise ValueError(f"{path.name}: VB_Name is {name!r}, not the file name")
    if path.suffix.lower() == ".bas":
        kind, head = "procedural", [f'Attribute VB_Name = "{name}"']
        head += [f"Attribute {key} = {value}" for key, value in attributes.items() if key != "VB_Name"]
    elif path.suffix.lower() == ".cls":
        base = attributes.get("VB_Base", f'"{CLASS_BASE}"').strip('"')
        kind = "document" if base in (WORKBOOK_BASE, WORKSHEET_BASE) else "class"
        # The order and the defaults VBE uses when it stores an imported class or document module.
        ordered = {
            "VB_Name": f'"{name}"',
            "VB_Base": f'"{base}"',
            "VB_GlobalNameSpace": "False",
            "VB_Creatable": "False",
            "VB_PredeclaredId": "True" if kind == "document" else "False",
            "VB_Exposed": "True" if kind == "document" else "False",
            "VB_TemplateDerived": "False",
            "VB_Customizable": "True" if kind == "document" else "False",
        }
        ordered.update(attributes)  # given values keep the canonical position; others (VB_Description) follow
        head = [f"Attribute {key} = {value}" for key, value in ordered.items()]
    else:
        raise ValueError(f"{path.name}: only .bas and .cls modules are supported")
    source = "".join(line + "\r\n" for line in head + lines)
    return Module(name, kind, source.encode(f"cp{CODE_PAGE}"))


def read_modules(folder: Path = VBA_DIR) -> list[Module]:
    """Document modules first (ThisWorkbook, then the sheet), then standard modules, then classes, each by name."""
    modules = [read_module(path) for path in sorted(folder.iterdir()) if path.suffix.lower() in (".bas", ".cls")]
    order = {"document": 0, "procedural": 1, "class": 2}
    return sorted(modules, key=lambda m: (order[m.kind], m.name != "ThisWorkbook", m.name.lower()))


# --------------------------------------------------------------------------------------------------
# [MS-OVBA] 2.4.1 compression
# --------------------------------------------------------------------------------------------------


def compress(data: bytes) -> bytes:
    """A CompressedContainer: signature byte 0x01, then one chunk per 4096 bytes of data."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), 4096):
        out += _compress_chunk(data[start : start + 4096])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    """One CompressedChunk ([MS-OVBA] 2.4.1.1.4): greedy longest matches within the chunk, found through a
    table of the positions of every 3-byte sequence seen so far (the 64 most recent are tried)."""
    body = bytearray()
    seen: dict[bytes, list[int]] = {}
    pos, indexed, end = 0, 0, len(chunk)
    while pos < end:
        flag_at = len(body)
        body.append(0)
        for bit in range(8):
            if pos >= end:
                break
            bit_count = max((pos - 1).bit_length(), 4)  # CopyToken help: ceil(log2(pos)), at least 4
            max_length = (0xFFFF >> bit_count) + 3
            best_length, best_offset = 0, 0
            for candidate in reversed(seen.get(chunk[pos : pos + 3], [])[-64:]):
                length = 0
                while length < max_length and pos + length < end and chunk[candidate + length] == chunk[pos + length]:
                    length += 1
                if length > best_length:
                    best_length, best_offset = length, pos - candidate
                    if length == max_length:
                        break
            if best_length >= 3:
                body += struct.pack("<H", ((best_offset - 1) << (16 - bit_count)) | (best_length - 3))
                body[flag_at] |= 1 << bit
                pos += best_length
            else:
                body.append(chunk[pos])
                pos += 1
            while indexed < min(pos, end - 2):
                seen.setdefault(chunk[indexed : indexed + 3], []).append(indexed)
                indexed += 1
    if len(body) <= 4096:
        return struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + bytes(body)
    if len(chunk) != 4096:
        raise ValueError("an incompressible final chunk cannot be stored raw")
    return struct.pack("<H", 0x3000 | 4095) + chunk


# --------------------------------------------------------------------------------------------------
# [MS-OVBA] 2.4.3 data encryption (obfuscation of the PROJECT stream's CMG, DPB and GC)
# --------------------------------------------------------------------------------------------------


def encrypt(project_id: str, data: bytes, label: str) -> bytes:
    """Encrypted data per [MS-OVBA] 2.4.3.2, with the seed and ignored bytes derived from `label` (deterministic)."""
    noise = hashlib.sha256(f"{project_id}:{label}".encode("ascii")).digest()
    seed = noise[0]
    version_enc = seed ^ 2
    project_key = sum(project_id.encode("ascii")) & 0xFF
    project_key_enc = seed ^ project_key
    out = bytearray([seed, version_enc, project_key_enc])
    unencrypted_1, encrypted_1, encrypted_2 = project_key, project_key_enc, version_enc
    ignored = noise[1 : 1 + (seed & 6) // 2]
    for byte in ignored + struct.pack("<I", len(data)) + data:
        byte_enc = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(byte_enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    return bytes(out)


# --------------------------------------------------------------------------------------------------
# The VBA project's streams
# --------------------------------------------------------------------------------------------------


def _record(record_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(data)) + data


def _mbcs(text: str) -> bytes:
    return text.encode(f"cp{CODE_PAGE}")


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def dir_stream(modules: list[Module]) -> bytes:
    """The uncompressed dir stream ([MS-OVBA] 2.3.4.2), records in the order Excel writes them."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 3))  # PROJECTSYSKIND: 64-bit Windows
    out += _record(0x0002, struct.pack("<I", 0x0409))  # PROJECTLCID
    out += _record(0x0014, struct.pack("<I", 0x0409))  # PROJECTLCIDINVOKE
    out += _record(0x0003, struct.pack("<H", CODE_PAGE))  # PROJECTCODEPAGE
    out += _record(0x0004, _mbcs(PROJECT_NAME))  # PROJECTNAME
    out += _record(0x0005, b"") + _record(0x0040, b"")  # PROJECTDOCSTRING
    out += _record(0x0006, b"") + _record(0x003D, b"")  # PROJECTHELPFILEPATH
    out += _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION (Reserved = 4, major 1, minor 0)
    out += _record(0x000C, b"") + _record(0x003C, b"")  # PROJECTCONSTANTS
    for name, libid in REFERENCES:
        out += _record(0x0016, _mbcs(name)) + _record(0x003E, _utf16(name))  # REFERENCENAME
        raw = _mbcs(libid)
        out += _record(0x000D, struct.pack("<I", len(raw)) + raw + struct.pack("<IH", 0, 0))  # REFERENCEREGISTERED
    out += _record(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for module in modules:
        out += _record(0x0019, _mbcs(module.name)) + _record(0x0047, _utf16(module.name))  # MODULENAME(UNICODE)
        out += _record(0x001A, _mbcs(module.name)) + _record(0x0032, _utf16(module.name))  # MODULESTREAMNAME
        out += _record(0x001C, b"") + _record(0x0048, b"")  # MODULEDOCSTRING
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: no performance cache before the source
        out += _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        out += _record(0x0021 if module.kind == "procedural" else 0x0022, b"")  # MODULETYPE
        out += _record(0x002B, b"")  # module terminator
    out += _record(0x0010, b"")  # dir terminator
    return bytes(out)


def project_stream(modules: list[Module]) -> bytes:
    """The PROJECT stream ([MS-OVBA] 2.3.1): unprotected, visible, no password."""
    lines = [f'ID="{PROJECT_ID}"']
    lines += [module.project_line for module in modules]
    lines += [f'Name="{PROJECT_NAME}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"']
    for key, label, data in (
        ("CMG", "protection", b"\x00\x00\x00\x00"),
        ("DPB", "password", b"\x00"),
        ("GC", "visibility", b"\xff"),
    ):
        lines.append(f'{key}="{encrypt(PROJECT_ID, data, label).hex().upper()}"')
    lines += ["", "[Host Extender Info]", "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000", ""]
    lines += ["[Workspace]"] + [f"{module.name}=0, 0, 0, 0, C" for module in modules]
    return _mbcs("\r\n".join(lines) + "\r\n")


def project_wm_stream(modules: list[Module]) -> bytes:
    """PROJECTwm ([MS-OVBA] 2.3.3): each module name in MBCS and in UTF-16, then a terminator."""
    out = bytearray()
    for module in modules:
        out += _mbcs(module.name) + b"\x00" + _utf16(module.name) + b"\x00\x00"
    return bytes(out + b"\x00\x00")


VBA_PROJECT_HEADER = bytes.fromhex("CC61FFFF000100")  # Reserved1 0x61CC, Version 0xFFFF, Reserved2 0, Reserved3 1


def vba_project_bin(modules: list[Module]) -> bytes:
    streams = {
        "PROJECT": project_stream(modules),
        "PROJECTwm": project_wm_stream(modules),
        "VBA/_VBA_PROJECT": VBA_PROJECT_HEADER,
        "VBA/dir": compress(dir_stream(modules)),
    }
    for module in modules:
        streams[f"VBA/{module.name}"] = compress(module.source)
    return compound_file(streams)


# --------------------------------------------------------------------------------------------------
# [MS-CFB] compound file, version 3 (512-byte sectors)
# --------------------------------------------------------------------------------------------------

SECTOR, MINI_SECTOR, MINI_CUTOFF = 512, 64, 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[_Entry] | None = None
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    red: bool = False
    start: int = ENDOFCHAIN
    size: int = 0


def _cfb_key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4: shorter names sort first, equal lengths compare upper-cased."""
    return len(name), name.upper()


def _tree(entries: list[_Entry], index: dict[int, int]) -> int:
    """Siblings as a balanced binary search tree, coloured as a valid red-black tree; returns the root's id."""
    ordered = sorted(entries, key=lambda e: _cfb_key(e.name))
    depth: dict[int, int] = {}

    def build(lo: int, hi: int, level: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        entry = ordered[mid]
        depth[id(entry)] = level
        entry.left = build(lo, mid, level + 1)
        entry.right = build(mid + 1, hi, level + 1)
        return index[id(entry)]

    root = build(0, len(ordered), 0)
    deepest = max(depth.values(), default=0)
    full = len(ordered) == 2 ** (deepest + 1) - 1
    for entry in ordered:  # every path has the same number of black nodes; red nodes only on an unfilled last level
        entry.red = not full and depth[id(entry)] == deepest and deepest > 0
    return root


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A compound file with the given streams; 'A/B' puts stream B in storage A (one level)."""
    root = _Entry("Root Entry", 5, children=[])
    storages: dict[str, _Entry] = {}
    for path, data in streams.items():
        parent = root
        if "/" in path:
            storage_name, path = path.split("/", 1)
            if storage_name not in storages:
                storages[storage_name] = _Entry(storage_name, 1, children=[])
                root.children.append(storages[storage_name])
            parent = storages[storage_name]
        parent.children.append(_Entry(path, 2, data=data))
    entries: list[_Entry] = [root]
    for entry in root.children:
        entries.append(entry)
    for entry in root.children:
        if entry.children is not None:
            entries.extend(entry.children)
    for entry in entries:
        if len(entry.name) > 31:
            raise ValueError(f"compound file names have at most 31 characters: {entry.name}")
    index = {id(entry): number for number, entry in enumerate(entries)}
    for entry in entries:
        if entry.children:
            entry.child = _tree(entry.children, index)

    # The mini stream holds the streams under 4096 bytes, in 64-byte mini sectors.
    mini_stream, mini_fat = bytearray(), []
    for entry in entries:
        if entry.kind == 2 and len(entry.data) < MINI_CUTOFF:
            entry.size = len(entry.data)
            if not entry.data:
                continue
            count = -(-len(entry.data) // MINI_SECTOR)
            entry.start = len(mini_fat)
            mini_fat += list(range(entry.start + 1, entry.start + count)) + [ENDOFCHAIN]
            mini_stream += entry.data.ljust(count * MINI_SECTOR, b"\x00")

    sectors: list[bytes] = []
    fat: list[int] = []

    def allocate(data: bytes) -> int:
        count = -(-len(data) // SECTOR)
        if count == 0:
            return ENDOFCHAIN
        first = len(sectors)
        for i in range(count):
            sectors.append(data[i * SECTOR : (i + 1) * SECTOR].ljust(SECTOR, b"\x00"))
        fat.extend(list(range(first + 1, first + count)) + [ENDOFCHAIN])
        return first

    root.size = len(mini_stream)
    root.start = allocate(bytes(mini_stream))
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    mini_fat_bytes += struct.pack("<I", FREESECT) * ((-len(mini_fat)) % (SECTOR // 4))
    first_mini_fat = allocate(mini_fat_bytes) if mini_fat else ENDOFCHAIN
    mini_fat_count = len(mini_fat_bytes) // SECTOR if mini_fat else 0
    for entry in entries:
        if entry.kind == 2 and len(entry.data) >= MINI_CUTOFF:
            entry.size = len(entry.data)
            entry.start = allocate(entry.data)

    directory = bytearray()
    for entry in entries:
        encoded = (entry.name + "\x00").encode("utf-16-le")
        is_stream_or_root = entry.kind in (2, 5)
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            encoded,
            len(encoded),
            entry.kind,
            0 if entry.red else 1,
            entry.left,
            entry.right,
            entry.child,
            b"\x00" * 16,
            0,
            0,
            0,
            entry.start if is_stream_or_root else 0,
            entry.size if is_stream_or_root else 0,
        )
    while len(directory) % SECTOR:
        directory += struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\x00" * 16, 0, 0, 0, 0, 0)
    first_directory = allocate(bytes(directory))

    fat_count = 0
    while fat_count * (SECTOR // 4) < len(sectors) + fat_count:
        fat_count += 1
    if fat_count > 109:
        raise ValueError("compound file too large for a header-only DIFAT")
    fat_sectors = list(range(len(sectors), len(sectors) + fat_count))
    fat += [FATSECT] * fat_count
    fat += [FREESECT] * (fat_count * (SECTOR // 4) - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    for i in range(fat_count):
        sectors.append(fat_bytes[i * SECTOR : (i + 1) * SECTOR])

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\x00" * 16,
        0x003E,  # minor version
        0x0003,  # major version 3
        0xFFFE,  # little-endian
        9,  # 512-byte sectors
        6,  # 64-byte mini sectors
        b"\x00" * 6,
        0,  # number of directory sectors: 0 in version 3
        fat_count,
        first_directory,
        0,  # transaction signature
        MINI_CUTOFF,
        first_mini_fat,
        mini_fat_count,
        ENDOFCHAIN,  # no DIFAT sectors
        0,
    )
    header += struct.pack("<109I", *(fat_sectors + [FREESECT] * (109 - fat_count)))
    assert len(header) == SECTOR
    return header + b"".join(sectors)


# --------------------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------------------

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"


def _relationships(rels: list[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>' for rid, kind, target in rels)
    return f'{_XML}<Relationships xmlns="{_PR}">{body}</Relationships>'


def package_parts(modules: list[Module] | None = None) -> dict[str, bytes]:
    """Every part of the add-in, in the order they are written to the zip."""
    modules = read_modules() if modules is None else modules
    content_types = (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CONTENT_TYPES}"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>"
    )
    root_rels = _relationships(
        [
            ("rId1", f"{_R}/officeDocument", "xl/workbook.xml"),
            ("rId2", f"{_PR}/metadata/core-properties", "docProps/core.xml"),
            ("rId3", f"{_R}/extended-properties", "docProps/app.xml"),
            ("rId4", REL_UI_2006, "customUI/customUI.xml"),
            ("rId5", REL_UI_2007, "customUI/customUI14.xml"),
        ]
    )
    workbook = (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_R}">'
        '<workbookPr codeName="ThisWorkbook"/>'
        '<bookViews><workbookView visibility="hidden"/></bookViews>'
        f'<sheets><sheet name="{SHEET_NAME}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    workbook_rels = _relationships(
        [
            ("rId1", f"{_R}/worksheet", "worksheets/sheet1.xml"),
            ("rId2", f"{_R}/styles", "styles.xml"),
            ("rId3", REL_VBA, "vbaProject.bin"),
        ]
    )
    sheet = (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_R}">'
        '<sheetPr codeName="Sheet1"/><dimension ref="A1"/>'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )
    styles = (
        f'{_XML}<styleSheet xmlns="{_MAIN}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    core = (
        f"{_XML}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title>xlplugin</dc:title><dc:subject>部门决算公开工作簿检查（决算校验）</dc:subject><dc:creator>xlplugin</dc:creator>"
        "</cp:coreProperties>"
    )
    app = (
        f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity></Properties>"
    )
    return {
        "[Content_Types].xml": content_types.encode("utf-8"),
        "_rels/.rels": root_rels.encode("utf-8"),
        "docProps/core.xml": core.encode("utf-8"),
        "docProps/app.xml": app.encode("utf-8"),
        "customUI/customUI.xml": _text_part(CUSTOM_UI_DIR / "customUI.xml"),
        "customUI/customUI14.xml": _text_part(CUSTOM_UI_DIR / "customUI14.xml"),
        "xl/workbook.xml": workbook.encode("utf-8"),
        "xl/_rels/workbook.xml.rels": workbook_rels.encode("utf-8"),
        "xl/worksheets/sheet1.xml": sheet.encode("utf-8"),
        "xl/styles.xml": styles.encode("utf-8"),
        "xl/vbaProject.bin": vba_project_bin(modules),
    }


def _text_part(path: Path) -> bytes:
    """A text source with LF line ends, whatever the checkout did to them."""
    return path.read_bytes().replace(b"\r\n", b"\n")


def build_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in package_parts().items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED  # no zlib: identical bytes with any zlib build
            info.create_system = 0
            info.external_attr = 0
            archive.writestr(info, data)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Vendoring xlwings' VBA
# --------------------------------------------------------------------------------------------------


def vendored_text(target: str, xlwings_dir: Path) -> bytes:
    """What addin/vba/<target> must contain for the xlwings package at `xlwings_dir`."""
    data = (xlwings_dir / VENDORED[target]).read_bytes()
    if target == "xlwings.bas":
        text = data.decode("ascii")
        for old, new in XLWINGS_PATCHES:
            if text.count(old) != 1:
                raise ValueError(f"xlwings_custom_addin.bas changed: {old!r} is not there once; update XLWINGS_PATCHES")
            text = text.replace(old, new)
        data = text.encode("ascii")
    return data


def vendor() -> None:
    import xlwings

    xlwings_dir = Path(xlwings.__file__).resolve().parent
    for target in VENDORED:
        (VBA_DIR / target).write_bytes(vendored_text(target, xlwings_dir))
    print(f"addin/vba/: {', '.join(VENDORED)} from xlwings {xlwings.__version__} ({xlwings_dir})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build addin/xlplugin.xlam from addin/customUI and addin/vba")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="exit 1 if addin/xlplugin.xlam is not what the sources build")
    group.add_argument(
        "--vendor", action="store_true", help="copy xlwings' VBA modules from the installed xlwings into addin/vba"
    )
    args = parser.parse_args(argv)
    if args.vendor:
        vendor()
    data = build_bytes()
    if args.check:
        current = OUTPUT.read_bytes() if OUTPUT.exists() else b""
        if current != data:
            print(f"{OUTPUT} is out of date: run python addin/build.py", file=sys.stderr)
            return 1
        print(f"{OUTPUT} is up to date ({len(data)} bytes)")
        return 0
    OUTPUT.write_bytes(data)
    print(f"wrote {OUTPUT} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
