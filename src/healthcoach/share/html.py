"""The summary as one self-contained HTML page (inline CSS, no scripts), for the UI and GET /v1/summary."""

from __future__ import annotations

from html import escape

from healthcoach.share.summary import Section, Summary

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;max-width:52rem;margin:1.5rem auto;
padding:0 1rem;line-height:1.4}
h1{font-size:1.4rem;margin:0 0 .2rem}
.meta{color:#52606d;margin:0 0 1rem}
h2{font-size:1.05rem;border-bottom:2px solid #0b7285;color:#0b7285;margin:1.2rem 0 .4rem;padding-bottom:.15rem}
table{width:100%;border-collapse:collapse;font-size:.92rem}
td{padding:.25rem .4rem;vertical-align:top;border-bottom:1px solid #e4e7eb}
td.date{white-space:nowrap;color:#52606d;width:6.5rem}
td.src{color:#52606d;font-size:.85rem;width:12rem}
.empty{color:#52606d;font-style:italic}
footer{margin-top:1.5rem;font-size:.82rem;color:#52606d;border-top:1px solid #cbd2d9;padding-top:.5rem}
"""


def _section(section: Section) -> str:
    if not section.lines:
        return f"<h2>{escape(section.title)}</h2><p class='empty'>{escape(section.empty)}</p>"
    rows = "".join(
        f"<tr><td class='date'>{escape(ln.date.isoformat()) if ln.date else 'undated'}</td>"
        f"<td><strong>{escape(ln.label)}</strong>{' · ' + escape(ln.detail) if ln.detail else ''}</td>"
        f"<td class='src'>{escape(ln.source)}</td></tr>" for ln in section.lines)
    return f"<h2>{escape(section.title)}</h2><table>{rows}</table>"


def summary_html(summary: Summary, full_page: bool = True) -> str:
    """The summary as HTML: a whole page, or (full_page=False) a fragment to embed in the UI."""
    born = f" · born {escape(summary.birth_date)}" if summary.birth_date else ""
    as_of = f" · records to {summary.as_of.isoformat()}" if summary.as_of else ""
    body = (f"<div class='hc-summary'><h1>Health summary: {escape(summary.name)}</h1>"
            f"<p class='meta'>Prepared {summary.generated.isoformat()}{born}{as_of}</p>"
            + "".join(_section(s) for s in summary.sections)
            + f"<footer>{escape(summary.footer)}</footer></div>")
    if not full_page:
        return body
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Health summary: "
            f"{escape(summary.name)}</title><style>{CSS}</style></head><body>{body}</body></html>")
