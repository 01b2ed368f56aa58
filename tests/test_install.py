"""install.py's file operations, on Linux, against a temporary home with Windows and macOS layouts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADDIN = ROOT / "addin" / "xlplugin.xlam"


def _install(home: Path, system: str, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "install.py"), "--home", str(home), "--system", system, *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture
def home(tmp_path) -> Path:
    folder = tmp_path / "张会计"  # a Chinese user name, as on many unit PCs
    folder.mkdir()
    return folder


def test_windows_install_copies_the_addin_and_writes_an_ansi_config(home):
    python = home / "AppData" / "Local" / "Python" / "pythonw.exe"
    result = _install(home, "windows", "--python", str(python))
    assert result.returncode == 0, result.stderr
    xlstart = home / "AppData" / "Roaming" / "Microsoft" / "Excel" / "XLSTART"
    assert (xlstart / "xlplugin.xlam").read_bytes() == ADDIN.read_bytes()
    config = (home / ".xlplugin" / "xlplugin.conf").read_bytes()
    assert config.decode("gbk") == f'"INTERPRETER_WIN","{python}"\r\n"XLPLUGIN_SERVER_URL",""\r\n'
    with pytest.raises(UnicodeDecodeError):
        config.decode("utf-8")  # the Chinese user name is in code page 936, as the VBA reads it
    assert "决算校验" in result.stdout and "--uninstall" in result.stdout
    manifest = json.loads((home / ".xlplugin" / "install.json").read_text(encoding="utf-8"))
    assert manifest["addin"] == str(xlstart / "xlplugin.xlam") and "venv" not in manifest


def test_macos_install_uses_the_office_startup_folder(home):
    result = _install(home, "darwin", "--python", "/usr/local/bin/python3")
    assert result.returncode == 0, result.stderr
    startup = home / "Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel"
    assert (startup / "xlplugin.xlam").is_file()
    config = home / "Library/Containers/com.microsoft.Excel/Data/xlplugin.conf"  # Excel for Mac is sandboxed
    assert config.read_text(encoding="utf-8").startswith('"INTERPRETER_MAC","/usr/local/bin/python3"')
    assert _install(home, "darwin", "--uninstall").returncode == 0 and not config.exists()


def test_check_reports_the_state(home):
    python = home / "py.exe"
    assert _install(home, "windows", "--check").returncode == 1
    _install(home, "windows", "--python", str(python))
    (home / ".xlplugin" / "venv").mkdir()
    result = _install(home, "windows", "--check")
    assert result.returncode == 0 and "已安装" in result.stdout


def test_uninstall_removes_exactly_what_was_installed(home):
    xlstart = home / "AppData" / "Roaming" / "Microsoft" / "Excel" / "XLSTART"
    xlstart.mkdir(parents=True)
    (xlstart / "用户自己的加载项.xlam").write_bytes(b"user's own add-in")
    _install(home, "windows", "--python", str(home / "py.exe"))
    result = _install(home, "windows", "--uninstall")
    assert result.returncode == 0, result.stderr
    assert not (xlstart / "xlplugin.xlam").exists()
    assert (xlstart / "用户自己的加载项.xlam").read_bytes() == b"user's own add-in"
    assert not (home / ".xlplugin").exists()
    again = _install(home, "windows", "--uninstall")
    assert again.returncode == 0 and "无需卸载" in again.stdout


def test_linux_installs_the_command_line_only_and_says_why(home):
    result = _install(home, "linux", "--python", sys.executable)
    assert result.returncode == 0
    assert "Excel 功能区" in result.stdout and "桌面版 Excel" in result.stdout
    assert not list(home.rglob("*.xlam"))
