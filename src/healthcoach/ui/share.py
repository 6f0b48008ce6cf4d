"""The UI's 'Share with my doctor' tab: the summary page shown as HTML, and the same page as a PDF."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from healthcoach.share import build_summary
from healthcoach.share.html import summary_html
from healthcoach.share.pdf import write_summary_pdf
from healthcoach.store.records import RecordStore

INTRO = ("A one-page summary of **your own records** to show a doctor: active problems, current medications "
         "with their instructions, allergies, recent key labs with their ranges, vaccines and recent visits. "
         "Each line is dated and names its source. It holds no advice.")


class SummaryPanel:
    """Builds the summary for the signed-in user; the PDF goes to a temp folder removed after the download."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    def page(self, user: str) -> str:
        """The summary as an HTML fragment."""
        return summary_html(build_summary(self.store, user), full_page=False)

    def pdf(self, user: str) -> tuple[str, str]:
        """(PDF path, its temp folder) for the File output to copy; `discard` removes the folder."""
        tmp = tempfile.mkdtemp(prefix="healthcoach-summary-")  # 0700
        try:
            return str(write_summary_pdf(build_summary(self.store, user), Path(tmp) / "health-summary.pdf")), tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def discard(folder: str) -> str:
        """Remove the PDF's temp folder once Gradio has copied it."""
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        return ""


def summary_tab(store: RecordStore, user_of: Any) -> None:
    """Show the summary and offer it as a PDF. `user_of(request)` names the signed-in user."""
    panel = SummaryPanel(store)
    gr.Markdown(INTRO)
    with gr.Row():
        show = gr.Button("Show my summary", variant="primary", elem_id="summary-show")
        make_pdf = gr.Button("Download as PDF", elem_id="summary-pdf")
    pdf_file = gr.File(label="Your summary (PDF)", interactive=False, elem_id="summary-file")
    pdf_dir = gr.State("")
    page = gr.HTML(elem_id="summary-page")

    # Gradio injects the request by annotation, so these are defs, not lambdas.
    def show_page(request: gr.Request) -> str:
        return panel.page(user_of(request))

    def download(request: gr.Request) -> tuple[str, str]:
        return panel.pdf(user_of(request))

    show.click(show_page, None, page)
    make_pdf.click(download, None, [pdf_file, pdf_dir]).then(SummaryPanel.discard, [pdf_dir], [pdf_dir])
