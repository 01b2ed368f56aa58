"""Writing output files safely: to a temporary name beside the target, then renamed over it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path to write; on success it replaces `path` (with the mode a new file would get).

    A link is written through: the file it points to is replaced and the link stays.  A path
    that is no regular file (/dev/stdout, a named pipe) is written directly: replacing it would
    put a file where the device or pipe was (as root, /dev/stdout itself)."""
    if path.exists() and not path.is_file() and not path.is_dir():
        yield path
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
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


def backup_path(path: Path) -> Path:
    """原文件.bak.xlsx beside the original (numbered if taken: .bak2, .bak3 …)."""
    candidate = path.with_name(f"{path.stem}.bak{path.suffix}")
    number = 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}.bak{number}{path.suffix}")
    return candidate


@contextlib.contextmanager
def backed_up(path: Path, wanted: bool = True) -> Iterator[Path | None]:
    """A copy of `path` beside it (backup_path) while the block changes it in place; should the
    block fail, the workbook is as it was and the copy goes (None when not `wanted`)."""
    backup = None
    if wanted:
        backup = backup_path(path)
        shutil.copy2(path, backup)
    try:
        yield backup
    except BaseException:
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise


def is_backup(path: Path) -> bool:
    """A backup that --in-place left (backup_path) beside its original, which is still there."""
    found = _BACKUP.fullmatch(path.name)
    return found is not None and path.with_name(found.group(1) + found.group(2)).is_file()


_BACKUP = re.compile(r"(.+)\.bak\d*(\.[^.]+)")
