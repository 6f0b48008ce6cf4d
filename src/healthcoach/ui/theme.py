"""The web UI's look: a Gradio theme, the stylesheet in ui/static, and a sign-in page that asks for the
token (Gradio's form says "password"). Handed to gr.mount_gradio_app by the API (see mount_options)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

CSS_PATH = Path(__file__).parent / "static" / "healthcoach.css"
SIGN_IN_MESSAGE = ("Sign in with your user name and your API token (it starts with hc_). "
                   "Get one on this computer with: healthcoach users add YOUR-NAME")

# Gradio's sign-in form labels the secret "Password"; people paste a token there, so say so.
SIGN_IN_SCRIPT = """
<script>
(function () {
  function relabel() {
    document.querySelectorAll("label, span, input[type=password]").forEach(function (el) {
      if (el.tagName === "INPUT") {
        if (!el.placeholder || el.placeholder.toLowerCase() === "password") { el.placeholder = "hc_..."; }
        el.setAttribute("aria-label", "API token");
      } else if (el.childElementCount === 0 && el.textContent.trim().toLowerCase() === "password") {
        el.textContent = "API token";
      } else if (el.childElementCount === 0 && el.textContent.trim().toLowerCase() === "username") {
        el.textContent = "User name";
      }
    });
  }
  new MutationObserver(relabel).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", relabel);
})();
</script>
"""


def theme() -> gr.themes.Base:
    """A calm teal theme with readable type (system fonts: nothing is fetched from the internet)."""
    return gr.themes.Soft(primary_hue="teal", secondary_hue="cyan", neutral_hue="slate",
                          font=[gr.themes.Font("system-ui"), "Segoe UI", "Helvetica", "Arial", "sans-serif"],
                          font_mono=["ui-monospace", "Consolas", "monospace"])


def mount_options() -> dict[str, Any]:
    """Keyword arguments for gr.mount_gradio_app: theme, stylesheet, sign-in wording."""
    return {"theme": theme(), "css_paths": [CSS_PATH], "head": SIGN_IN_SCRIPT, "auth_message": SIGN_IN_MESSAGE}
