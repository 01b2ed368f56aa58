"""Renderings of results for people and scripts; every one renders the same Finding list."""

from __future__ import annotations

import json


def render(reports: list, fmt: str, show_info: bool = False) -> str:
    """The validation reports in one of the formats of `xlplugin validate --format`."""
    if fmt == "json":
        from .findings import reports_json

        return json.dumps(reports_json(reports, show_info), ensure_ascii=False, indent=2)
    if fmt == "junit":
        from .ci import reports_junit

        return reports_junit(reports, show_info)
    if fmt == "sarif":
        from .ci import reports_sarif

        return json.dumps(reports_sarif(reports, show_info), ensure_ascii=False, indent=2)
    if fmt == "github":
        from .ci import reports_github

        return reports_github(reports, show_info)
    if fmt == "html":
        from .html import reports_html

        return reports_html(reports, show_info)
    from .findings import reports_text

    return reports_text(reports, show_info)
