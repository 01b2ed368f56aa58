#!/usr/bin/env python3
"""Set up xlplugin in a virtual environment (standard library only: runs before anything is installed).

    python3 install.py            # the package and its command `xlplugin`, in .venv beside this file
    python3 install.py --dev      # the same, editable, with the test tools (pytest, hypothesis, ruff)
    python3 install.py --wheels DIR   # offline: install from a directory of wheels, no network

On Linux this sets up the headless tools (the command line).  The Excel ribbon needs
desktop Excel on Windows or macOS.  Nothing outside the chosen folder is touched and no
administrator rights are needed; to undo, delete the folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_PYTHON = (3, 11)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="安装 xlplugin（部门决算公开检查工具）")
    parser.add_argument("--venv", type=Path, default=HERE / ".venv", help="虚拟环境目录（默认：本目录下的 .venv）")
    parser.add_argument("--dev", action="store_true", help="开发安装：可编辑模式并安装测试工具")
    parser.add_argument("--wheels", type=Path, help="离线安装：从该目录中的 wheel 文件安装，不访问网络")
    args = parser.parse_args(argv)

    if sys.version_info < MIN_PYTHON:
        print(f"需要 Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} 或更高版本，当前为 {platform.python_version()}", file=sys.stderr)
        return 2
    python = _create_venv(args.venv)
    target = f"{HERE}[test]" if args.dev else str(HERE)
    command = [*_pip(python), "install", "--disable-pip-version-check", "-q"]
    if args.wheels:
        command += ["--no-index", "--find-links", str(args.wheels)]
    command += ["-e", target] if args.dev else [target]
    print("安装 xlplugin：" + " ".join(command))
    if subprocess.call(command) != 0:
        print("安装失败：请检查上面 pip 的输出（网络、wheel 目录或磁盘空间）", file=sys.stderr)
        return 1
    bindir = python.parent
    print(f"已安装到 {args.venv}")
    print(f"命令：{bindir / 'xlplugin'}（例如：{bindir / 'xlplugin'} inspect workbook_templates/sample_2024.xlsx）")
    if platform.system() not in ("Windows", "Darwin"):
        print("说明：本机为 Linux，已安装命令行工具；Excel 功能区（决算校验选项卡）需要 Windows 或 macOS 上的桌面版 Excel。")
    print(f"卸载：删除目录 {args.venv}")
    return 0


def _create_venv(folder: Path) -> Path:
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if python.exists():
        return python
    try:
        venv.create(folder, with_pip=True)
    except (subprocess.CalledProcessError, OSError):
        # Debian without python3-venv has no ensurepip: make the environment without pip
        # and let this interpreter's pip install into it (pip ≥ 22.3: --python).
        venv.create(folder, with_pip=False, clear=True)
    return python


def _pip(python: Path) -> list[str]:
    has_pip = subprocess.call([str(python), "-c", "import pip"], stderr=subprocess.DEVNULL) == 0
    return [str(python), "-m", "pip"] if has_pip else [sys.executable, "-m", "pip", "--python", str(python)]


if __name__ == "__main__":
    sys.exit(main())
