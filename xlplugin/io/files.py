"""Writing output files safely: to a temporary name beside the target, then renamed over it."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path to write; on success it replaces `path` (with the mode a new file would get)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> Path:
    with atomic_target(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def file_mode(path: Path) -> int:
    """The mode a new file would get (mkstemp makes 0600), or the replaced file's own."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_OS_PROBLEMS = {  # by name: not every system defines every code
    code: words
    for name, words in (
        ("ENOENT", "路径不存在"),
        ("EACCES", "没有权限"),
        ("EPERM", "没有权限"),
        ("ENOSPC", "磁盘已满"),
        ("EDQUOT", "磁盘配额已用完"),
        ("EROFS", "磁盘或共享是只读的"),
        ("EEXIST", "路径中有同名的文件，不能当作文件夹"),
        ("ENOTDIR", "路径中有一级是文件，不是文件夹"),
        ("EISDIR", "这是一个文件夹"),
        ("ENAMETOOLONG", "路径过长"),
        ("EFBIG", "文件超过了允许的大小"),
    )
    if (code := getattr(errno, name, None)) is not None
}
_IN_USE = (32, 33)  # Windows: ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION — open in Excel or WPS


def os_problem(error: OSError) -> str:
    """What went wrong with a file, in Chinese, the system's own words in brackets: the system
    speaks English ("File exists" for a folder that is a file) or, on Windows, the code page's."""
    own = error.strerror or str(error)
    if getattr(error, "winerror", None) in _IN_USE:
        return f"文件正被其他程序（如 Excel 或 WPS）打开，请关闭后再试（{own}）"
    words = _OS_PROBLEMS.get(error.errno)
    return f"{words}（{own}）" if words else own
