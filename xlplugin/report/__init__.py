"""Renderings of results for people and scripts; every one renders the same Finding list.

Each format is written piece by piece to a text stream: a 财政局 batch of thousands of
workbooks can have hundreds of thousands of findings, and no rendering holds the whole
report (nor a tree of it) in memory.  The JSON formats put one finding per line, each
encoded by the json module's C encoder (an indented dump goes through its pure-Python
encoder: 17 s and 2.4 GB for the SARIF of 2,000 workbooks, against a few seconds here).
"""

from __future__ import annotations

import io
from typing import TextIO


def write(reports: list, fmt: str, out: TextIO, show_info: bool = False) -> None:
    """The validation reports in one of the formats of `xlplugin validate --format`, written to `out`."""
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
    writer(reports, out, show_info)


def render(reports: list, fmt: str, show_info: bool = False) -> str:
    """write() into a string (one workbook's report, for the server)."""
    buffer = io.StringIO()
    write(reports, fmt, buffer, show_info)
    return buffer.getvalue()
