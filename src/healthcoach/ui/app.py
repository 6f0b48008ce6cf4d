"""The Gradio UI (Blocks): chat with streaming and citations, records browser, trend charts, upload,
consent. It calls the same ChatService and stores as the API; no logic of its own. One builder per tab
in ui.tabs; the texts in ui.render."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
import gradio as gr

from healthcoach.container import CoachBundle
from healthcoach.privacy.tempfiles import UserFiles
from healthcoach.ui.render import BANNER
from healthcoach.ui.share import summary_tab
from healthcoach.ui.tabs import Handlers, chat_tab, privacy_tab, records_tab, trends_tab, upload_tab
from healthcoach.ui.theme import mount_options as mount_options


def build_ui(bundle: CoachBundle, local_user: str | None = None, files: UserFiles | None = None) -> gr.Blocks:
    """The Blocks app. Each handler reads the signed-in user from the request (or the local user); uploads
    and exports go through `files` (private per-user temp folders that expire)."""
    files = files or UserFiles()
    h = Handlers(bundle, local_user, files)
    # delete_cache: anything Gradio keeps (an upload never imported) goes after the same time to live,
    # checked every minute (Gradio's default keeps files for a day).
    ttl = int(files.ttl_s)
    with gr.Blocks(title="healthcoach", analytics_enabled=False, delete_cache=(min(60, ttl), ttl)) as demo:
        status = gr.HTML(elem_id="whoami")
        gr.Markdown(f"> {BANNER}", elem_id="banner")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat_tab(h)
            with gr.Tab("Records", id="records"):
                refresh, frames = records_tab()
            with gr.Tab("Trends", id="trends"), gr.Tabs():
                figs = trends_tab()
            with gr.Tab("Share with my doctor", id="summary"):
                summary_tab(h.store, files, h.user_of)
            with gr.Tab("Upload", id="upload"):
                upload_tab(h, frames, figs)
            with gr.Tab("Privacy", id="privacy") as privacy:
                consent = privacy_tab(h, demo, privacy, frames, figs)
        refresh.click(h.tables, None, frames)
        demo.load(h.who, None, [status, consent]).then(h.tables, None, frames).then(h.plots, None, figs)
    assert isinstance(demo, gr.Blocks)
    return demo
