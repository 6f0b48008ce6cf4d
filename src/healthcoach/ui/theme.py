"""The web UI's look: a Gradio theme, the stylesheet in ui/static, and a sign-in message that asks for the
API token and says where to get one. Handed to gr.mount_gradio_app by the API (see mount_options)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

CSS_PATH = Path(__file__).parent / "static" / "healthcoach.css"
SIGN_IN_MESSAGE = ("Sign in with your user name and your API token (it starts with hc_). "
                   "Get one on this computer with: healthcoach users add YOUR-NAME")


def theme() -> gr.themes.Base:
    """A calm teal theme with readable type (system fonts: nothing is fetched from the internet)."""
    return gr.themes.Soft(primary_hue="teal", secondary_hue="cyan", neutral_hue="slate",
                          font=[gr.themes.Font("system-ui"), "Segoe UI", "Helvetica", "Arial", "sans-serif"],
                          font_mono=["ui-monospace", "Consolas", "monospace"])


def mount_options() -> dict[str, Any]:
    """Keyword arguments for gr.mount_gradio_app: theme, stylesheet, sign-in wording."""
    return {"theme": theme(), "css_paths": [CSS_PATH], "auth_message": SIGN_IN_MESSAGE}
