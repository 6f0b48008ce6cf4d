"""The UI's 'Share with my doctor' tab: the summary page shown as HTML, and the same page as a PDF."""

from __future__ import annotations

from typing import Any

import gradio as gr

from healthcoach.privacy.tempfiles import UserFiles
from healthcoach.share import build_summary
from healthcoach.share.html import summary_html
from healthcoach.share.pdf import write_summary_pdf
from healthcoach.store.records import RecordStore

INTRO = ("A one-page summary of **your own records** to show a doctor: active problems, current medications "
         "with their instructions, allergies, recent key labs with their ranges, vaccines and recent visits. "
         "Each line is dated and names its source. It holds no advice.")


class SummaryPanel:
    """Builds the summary for the signed-in user; the PDF goes to one of the user's private download folders
    (the same as the export's), removed once downloaded or after the time to live."""

    def __init__(self, store: RecordStore, files: UserFiles) -> None:
        self.store, self.files = store, files

    def page(self, user: str) -> str:
        """The summary as an HTML fragment."""
        return summary_html(build_summary(self.store, user), full_page=False)

    def pdf(self, user: str) -> str:
        """A download link to the summary PDF; the link works for this user only."""
        folder = self.files.new_dir(user)
        try:
            path = write_summary_pdf(build_summary(self.store, user), folder / "health-summary.pdf")
        except BaseException:
            self.files.discard(folder)
            raise
        return (f"[Download health-summary.pdf ({path.stat().st_size / 1024:,.0f} KB)]"
                f"(/ui/files/{self.files.file_id(user, path)}) · the file is removed once downloaded, or after "
                f"{self.files.ttl_s / 60:.0f} minutes.")


def summary_tab(store: RecordStore, files: UserFiles, user_of: Any) -> None:
    """Show the summary and offer it as a PDF. `user_of(request)` names the signed-in user."""
    panel = SummaryPanel(store, files)
    gr.Markdown(INTRO)
    with gr.Row():
        show = gr.Button("Show my summary", variant="primary", elem_id="summary-show")
        make_pdf = gr.Button("Download as PDF", elem_id="summary-pdf")
    pdf_link = gr.Markdown(elem_id="summary-file")
    page = gr.HTML(elem_id="summary-page")

    # Gradio injects the request by annotation, so these are defs, not lambdas.
    def show_page(request: gr.Request) -> str:
        return panel.page(user_of(request))

    def download(request: gr.Request) -> str:
        return panel.pdf(user_of(request))

    show.click(show_page, None, page)
    make_pdf.click(download, None, pdf_link)
