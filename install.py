#!/usr/bin/env python3
"""Install xlplugin for one user — standard library only, so it runs before anything is installed.

    python3 install.py                 # Windows/macOS: Python package in a per-user virtual environment,
                                       #   the 决算校验 add-in in Excel's XLSTART folder, its configuration
                                       # Linux: the command line tools (the ribbon needs desktop Excel)
    python3 install.py --wheels DIR    # the same, offline, from a folder of wheels (no network)
    python3 install.py --build-wheelhouse DIR [--platform win_amd64]
                                       # on a connected machine: fill DIR with every wheel needed offline
    python3 install.py --check         # what is installed where
    python3 install.py --uninstall     # remove exactly what install.py installed
    python3 install.py --dev           # developers and CI: editable install with test tools into ./.venv

No administrator rights are needed: everything goes under the user's home folder.
What was installed is recorded in ~/.xlplugin/install.json, which --uninstall follows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ADDIN = HERE / "addin" / "xlplugin.xlam"
MIN_PYTHON = (3, 11)
MANIFEST = "install.json"
CONFIG = "xlplugin.conf"
ADDIN_NAME = "xlplugin.xlam"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="安装 xlplugin（部门决算公开检查工具）")
    parser.add_argument("--dev", action="store_true", help="开发安装：在本目录 .venv 中可编辑安装并装上测试工具")
    parser.add_argument("--wheels", type=Path, help="离线安装：只从该目录中的 wheel 文件安装")
    parser.add_argument("--build-wheelhouse", type=Path, metavar="DIR", help="在联网机器上把离线安装所需的全部 wheel 下载到 DIR")
    parser.add_argument("--platform", default="", help="与 --build-wheelhouse 合用：目标平台，例如 win_amd64、macosx_11_0_arm64")
    parser.add_argument("--check", action="store_true", help="检查安装状态")
    parser.add_argument("--uninstall", action="store_true", help="卸载 install.py 安装的全部内容")
    # for tests: act on another home folder / system, and use an existing interpreter instead of a new venv
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--system", choices=["windows", "darwin", "linux"], help=argparse.SUPPRESS)
    parser.add_argument("--python", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if sys.version_info < MIN_PYTHON:
        print(f"需要 Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} 或更高版本，当前为 {platform.python_version()}", file=sys.stderr)
        return 2
    if args.dev:
        return install_dev(args.wheels)
    if args.build_wheelhouse:
        return build_wheelhouse(args.build_wheelhouse, args.platform)
    target = Target(args.system or _this_system(), args.home or Path.home())
    if args.check:
        return check(target)
    if args.uninstall:
        return uninstall(target)
    return install(target, args.wheels, args.python)


class Target:
    """Where things go for one user on one system."""

    def __init__(self, system: str, home: Path):
        self.system, self.home = system, home
        self.folder = home / ".xlplugin"
        self.venv = self.folder / "venv"
        self.manifest = self.folder / MANIFEST

    @property
    def config(self) -> Path:
        """Where the add-in's VBA reads its configuration (GetConfig in addin/vba/xlwings.bas)."""
        if self.system == "darwin":  # sandboxed Excel for Mac reads its own container, not ~/.xlplugin
            return self.home / "Library/Containers/com.microsoft.Excel/Data" / CONFIG
        return self.folder / CONFIG

    @property
    def python(self) -> Path:
        return self.venv / ("Scripts/pythonw.exe" if self.system == "windows" else "bin/python")

    @property
    def xlstart(self) -> Path | None:
        """Excel's per-user startup folder: add-ins there load when Excel starts."""
        if self.system == "windows":
            roaming = self.home / "AppData" / "Roaming"
            if os.name == "nt" and self.home == Path.home():
                roaming = Path(os.environ.get("APPDATA", roaming))
            return roaming / "Microsoft" / "Excel" / "XLSTART"
        if self.system == "darwin":
            return self.home / "Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel"
        return None

    @property
    def encoding(self) -> str:
        """The add-in's VBA reads its configuration in the ANSI code page on Windows."""
        if self.system != "windows":
            return "utf-8"
        return "mbcs" if os.name == "nt" else "gbk"  # gbk = code page 936, the ANSI page of Chinese Windows


def install(target: Target, wheels: Path | None, python: Path | None) -> int:
    done: list[str] = []
    record = _read_manifest(target)
    target.folder.mkdir(parents=True, exist_ok=True)
    if python is None:
        created = not target.venv.exists()
        interpreter = _create_venv(target.venv, target.system)
        if _pip_install(interpreter, str(HERE), wheels) != 0:
            print("安装失败：请检查上面 pip 的输出（网络、wheel 目录或磁盘空间）", file=sys.stderr)
            return 1
        if created:
            record["venv"] = str(target.venv)
        if target.system == "darwin":  # xlwings' AppleScript that lets Excel for Mac start Python
            subprocess.call([str(interpreter), "-m", "xlwings", "runpython", "install"])
        done.append(f"Python 环境：{target.venv}（已安装 xlplugin 及其依赖）")
        interpreter_for_excel = target.python
    else:
        interpreter_for_excel = python
    if target.xlstart is not None:
        if not ADDIN.is_file():
            print(f"找不到加载项文件 {ADDIN}，请使用完整的安装包", file=sys.stderr)
            return 1
        target.xlstart.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ADDIN, target.xlstart / ADDIN_NAME)
        record["addin"] = str(target.xlstart / ADDIN_NAME)
        done.append(f"Excel 加载项：{target.xlstart / ADDIN_NAME}（Excel 启动时自动加载，“决算校验”选项卡）")
        target.config.parent.mkdir(parents=True, exist_ok=True)
        write_config(target, interpreter_for_excel)
        record["config"] = str(target.config)
        done.append(f"加载项配置：{target.config}（Python 解释器 {interpreter_for_excel}）")
    record["folder"] = str(target.folder)
    target.manifest.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    print("已完成：\n  " + "\n  ".join(done or ["（无变更）"]))
    if target.xlstart is None:
        print(f"命令行工具：{target.venv / 'bin' / 'xlplugin'}")
        print("说明：本机不是 Windows 或 macOS，已安装命令行工具；Excel 功能区（决算校验选项卡）需要桌面版 Excel。")
    else:
        print("请重新启动 Excel，功能区上会出现“决算校验”选项卡。若未出现，请让信息部门按 README 设置宏安全（受信任位置）。")
    print(f"卸载：python3 {Path(__file__).name} --uninstall")
    return 0


def write_config(target: Target, interpreter: Path) -> None:
    """The add-in's configuration, in the format of xlwings' config files ("KEY","VALUE" per line)."""
    key = {"windows": "INTERPRETER_WIN", "darwin": "INTERPRETER_MAC"}.get(target.system, "INTERPRETER")
    values = {key: str(interpreter), "XLPLUGIN_SERVER_URL": ""}
    text = "".join(f'"{k}","{v}"\r\n' for k, v in values.items())
    target.config.write_bytes(text.encode(target.encoding))


def uninstall(target: Target) -> int:
    record = _read_manifest(target)
    if not record:
        print(f"没有找到安装记录 {target.manifest}：xlplugin 未通过 install.py 安装，无需卸载。")
        return 0
    removed = []
    for key in ("addin", "config"):
        path = Path(record[key]) if record.get(key) else None
        if path and path.exists():
            path.unlink()
            removed.append(str(path))
    if record.get("venv") and Path(record["venv"]).exists():
        shutil.rmtree(record["venv"])
        removed.append(record["venv"])
    target.manifest.unlink()
    if target.folder.exists() and not any(target.folder.iterdir()):
        shutil.rmtree(target.folder)
        removed.append(str(target.folder))
    print("已卸载：\n  " + "\n  ".join(removed or ["（没有需要删除的文件）"]))
    return 0


def check(target: Target) -> int:
    record = _read_manifest(target)
    lines = [f"安装记录：{target.manifest if record else '无'}"]
    if target.xlstart is not None:
        addin = target.xlstart / ADDIN_NAME
        lines.append(f"Excel 加载项：{'已安装 ' + str(addin) if addin.is_file() else '未安装（应在 ' + str(addin) + '）'}")
        lines.append(f"加载项配置：{'存在 ' + str(target.config) if target.config.is_file() else '缺失'}")
    python = Path(record["venv"]) if record.get("venv") else target.venv
    lines.append(f"Python 环境：{'存在 ' + str(python) if python.exists() else '未创建'}")
    print("\n".join(lines))
    complete = python.exists() and (target.xlstart is None or ((target.xlstart / ADDIN_NAME).is_file() and target.config.is_file()))
    return 0 if complete else 1


def install_dev(wheels: Path | None) -> int:
    """Developers and CI: ./.venv with xlplugin editable and the test tools."""
    folder = HERE / ".venv"
    interpreter = _create_venv(folder, _this_system())
    if _pip_install(interpreter, f"{HERE}[test]", wheels, editable=True) != 0:
        print("安装失败：请检查上面 pip 的输出", file=sys.stderr)
        return 1
    print(f"已安装到 {folder}（可编辑模式，含测试工具）")
    print(f"命令：{interpreter.parent / 'xlplugin'}（例如：{interpreter.parent / 'xlplugin'} validate workbook_templates/sample_2024.xlsx）")
    if _this_system() == "linux":
        print("说明：本机为 Linux，已安装命令行工具；Excel 功能区（决算校验选项卡）需要 Windows 或 macOS 上的桌面版 Excel。")
    print(f"卸载：删除目录 {folder}")
    return 0


def build_wheelhouse(folder: Path, target_platform: str) -> int:
    """Every wheel an offline install needs: xlplugin itself and its dependencies."""
    folder.mkdir(parents=True, exist_ok=True)
    if subprocess.call([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(folder), str(HERE)]) != 0:
        return 1
    download = [sys.executable, "-m", "pip", "download", "-d", str(folder)]
    if target_platform:
        version = f"{sys.version_info.major}{sys.version_info.minor}"
        download += ["--platform", target_platform, "--python-version", version, "--only-binary=:all:"]
    wheel = next(folder.glob("xlplugin-*.whl"))
    if subprocess.call(download + [str(wheel)]) != 0:
        return 1
    print(f"已生成离线安装包目录 {folder}：复制到目标电脑后运行 python install.py --wheels {folder.name}")
    return 0


def _create_venv(folder: Path, system: str) -> Path:
    python = folder / ("Scripts/python.exe" if system == "windows" else "bin/python")
    if python.exists():
        return python
    try:
        venv.create(folder, with_pip=True)
    except (subprocess.CalledProcessError, OSError):
        # Debian without python3-venv has no ensurepip: make the environment without pip
        # and let this interpreter's pip install into it (pip ≥ 22.3: --python).
        venv.create(folder, with_pip=False, clear=True)
    return python


def _pip_install(python: Path, target: str, wheels: Path | None, editable: bool = False) -> int:
    has_pip = subprocess.call([str(python), "-c", "import pip"], stderr=subprocess.DEVNULL) == 0
    command = [str(python), "-m", "pip"] if has_pip else [sys.executable, "-m", "pip", "--python", str(python)]
    command += ["install", "--disable-pip-version-check", "-q"]
    if wheels:
        command += ["--no-index", "--find-links", str(wheels)]
    command += ["-e", target] if editable else [target]
    print("安装 xlplugin：" + " ".join(command))
    return subprocess.call(command)


def _read_manifest(target: Target) -> dict:
    try:
        return json.loads(target.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _this_system() -> str:
    return {"Windows": "windows", "Darwin": "darwin"}.get(platform.system(), "linux")


if __name__ == "__main__":
    sys.exit(main())
