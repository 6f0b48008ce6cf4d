"""The summary as a PDF (reportlab, pure Python): the same sections as the HTML, for printing or email."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from healthcoach.share.summary import Summary

TEAL = "#0b7285"


def summary_pdf(summary: Summary) -> bytes:
    """PDF bytes of the summary (letter size; long sections flow onto a second page)."""
    # lazy: start-up time (reportlab loads only when a PDF is asked for)
    from reportlab.lib import colors  # lazy: start-up time
    from reportlab.lib.pagesizes import letter  # lazy: start-up time
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet  # lazy: start-up time
    from reportlab.lib.units import inch  # lazy: start-up time
    from reportlab.platypus import (  # lazy: start-up time
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=styles["BodyText"], fontSize=8.5, leading=10.5)
    small = ParagraphStyle("small", parent=cell, textColor=colors.HexColor("#52606d"))
    head = ParagraphStyle("head", parent=styles["Heading2"], fontSize=11.5, textColor=colors.HexColor(TEAL),
                          spaceBefore=8, spaceAfter=3)
    born = f" · born {summary.birth_date}" if summary.birth_date else ""
    as_of = f" · records to {summary.as_of.isoformat()}" if summary.as_of else ""
    story: list[object] = [
        Paragraph(escape(f"Health summary: {summary.name}"), styles["Title"]),
        Paragraph(escape(f"Prepared {summary.generated.isoformat()}{born}{as_of}"), small),
    ]
    width = letter[0] - 1.2 * inch
    for section in summary.sections:
        story.append(Paragraph(escape(section.title), head))
        if not section.lines:
            story.append(Paragraph(f"<i>{escape(section.empty)}</i>", small))
            continue
        rows = [[Paragraph(ln.date.isoformat() if ln.date else "undated", small),
                 Paragraph(f"<b>{escape(ln.label)}</b>" + (f" · {escape(ln.detail)}" if ln.detail else ""), cell),
                 Paragraph(escape(ln.source), small)] for ln in section.lines]
        table = Table(rows, colWidths=[0.85 * inch, width - 2.45 * inch, 1.6 * inch])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cbd2d9")),
                                   ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
        story.append(table)
    story += [Spacer(1, 10), Paragraph(escape(summary.footer), small)]
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=letter, leftMargin=0.6 * inch, rightMargin=0.6 * inch,
                            topMargin=0.6 * inch, bottomMargin=0.6 * inch,
                            title=f"Health summary: {summary.name}", author="healthcoach")
    doc.build(story)
    return buf.getvalue()


def write_summary_pdf(summary: Summary, out: Path) -> Path:
    """Write the PDF to `out` (a .pdf file path; its folder must exist) and return the path."""
    out.write_bytes(summary_pdf(summary))
    return out
