"""Renderings of results for people and scripts; every one renders the same Finding list.

Each format is written piece by piece to a text stream: a 财政局 batch of thousands of
workbooks can have hundreds of thousands of findings, and no rendering holds the whole
report (nor a tree of it) in memory.  The JSON formats put one finding per line, each
encoded by the json module's C encoder (an indented dump goes through its pure-Python
encoder: 17 s and 2.4 GB for the SARIF of 2,000 workbooks, against a few seconds here).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TextIO

from ..model import NotChecked


def write(reports: list, fmt: str, out: TextIO, show_info: bool = False, not_checked: Sequence[NotChecked] = ()) -> None:
    """The validation reports, and the inputs that have none (`not_checked`), in one of the
    formats of `xlplugin validate --format`, written to `out`."""
    if fmt == "json":
        from .findings import write_json as writer
    elif fmt == "junit":
        from .ci import write_junit as writer
    elif fmt == "sarif":
        from .ci import write_sarif as writer
    elif fmt == "github":
        from .ci import write_github as writer
    elif fmt == "html":
        from .html import write_html as writer
    else:
        from .findings import write_text as writer
    writer(reports, out, show_info, not_checked)


def render(reports: list, fmt: str, show_info: bool = False, not_checked: Sequence[NotChecked] = ()) -> str:
    """write() into a string (one workbook's report, for the server)."""
    buffer = io.StringIO()
    write(reports, fmt, buffer, show_info, not_checked)
    return buffer.getvalue()
