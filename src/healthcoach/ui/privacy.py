"""The Privacy tab's actions: consent, export, sources, activity, delete — each a privacy-service call."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from healthcoach.errors import HealthCoachError, NotFound
from healthcoach.privacy import (
    ConsentState,
    delete_user,
    disconnect_source,
    export_user,
    get_consent,
    list_audit,
    set_consent,
)
from healthcoach.privacy.tempfiles import UserFiles

if TYPE_CHECKING:
    from healthcoach.container import CoachBundle


class PrivacyPanel:
    """The Privacy tab's actions for one signed-in user, each a call to the privacy service (no logic of its own)."""

    HISTORY = ("when", "setting", "value")
    SOURCES = ("kind", "file", "records")
    ACTIVITY = ("when", "action", "detail")

    def __init__(self, bundle: CoachBundle, local_user: str | None = None, files: UserFiles | None = None) -> None:
        self.stores, self.local_user = bundle.stores, local_user
        self.files = files or UserFiles()

    def views(self, user: str) -> list[Any]:
        """[records flag, remote flag, consent history, sources, source dropdown, activity] for the tab."""
        try:
            state = get_consent(self.stores.records, user)
        except NotFound:  # no profile (e.g. just deleted): show it empty rather than create one again
            state = ConsentState(user_id=user, use_records_in_chat=False, remote_llm=False)
        history = [[e.at.isoformat(timespec="seconds"), e.flag, "on" if e.value else "off"] for e in state.history]
        found = self.stores.records.sources(user)
        rows = [[kind, file or "", n] for kind, file, n in found]
        choices = [(f"{kind} · {file or 'all'} ({n} records)", f"{kind}\t{file or ''}") for kind, file, n in found]
        activity = [[e.at.isoformat(timespec="seconds"), e.action, audit_text(e.action, e.detail)]
                    for e in reversed(list_audit(self.stores.records, user, 200))]
        return [state.use_records_in_chat, state.remote_llm, history or [["", "no changes yet", ""]],
                rows or [["", "no records yet", 0]], gr.Dropdown(choices=choices, value=None),
                activity or [["", "", "nothing yet"]]]

    def set_remote(self, user: str, on: bool) -> str:
        """Turn the remote-LLM flag on or off (logged with its time)."""
        set_consent(self.stores.records, user, remote_llm=on)
        return ("A remote language model may see your question and the records used to answer it." if on
                else "Nothing leaves this computer: answers use the local model or templates only.")

    def export(self, user: str) -> tuple[Path, str]:
        """(zip path, download link): the export, in a private folder of this user's that the server removes
        once it is downloaded (or after the time to live). The link works for this user only."""
        folder = self.files.new_dir(user)
        try:
            path = export_user(self.stores, user, folder / "healthcoach-export.zip")
        except BaseException:
            self.files.discard(folder)
            raise
        size = path.stat().st_size
        link = (f"[Download healthcoach-export.zip ({size / 1024:,.0f} KB)](/ui/files/{self.files.file_id(user, path)})"
                f" · the file is removed once downloaded, or after {self.files.ttl_s / 60:.0f} minutes.")
        return path, link

    def disconnect(self, user: str, pick: str | None) -> str:
        """Delete the records of the chosen source ("kind\tfile"); a message either way."""
        if not pick:
            return "Choose a source first."
        kind, _, file = pick.partition("\t")
        try:
            report = disconnect_source(self.stores, user, kind, file or None)
        except HealthCoachError as exc:
            return f"⚠️ {exc.message}"
        backed = f" ({report.still_backed} still stated by another source, so kept)" if report.still_backed else ""
        return (f"Disconnected **{kind}{' · ' + file if file else ''}**: {report.records_removed} records removed"
                f"{backed}, {report.records_left} left.")

    def delete(self, user: str, typed: str | None) -> tuple[str, str]:
        """(message, cleared confirm box): delete everything when `typed` is the user id, else nothing."""
        if (typed or "").strip() != user:
            return f"Nothing was deleted. To delete everything, type your user id (**{user}**) exactly.", typed or ""
        try:
            report = delete_user(self.stores, user)
        except HealthCoachError as exc:
            return f"⚠️ {exc.message}", ""
        self.files.remove_user(user)
        counts = ", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in report.removed.items() if n)
        after = (f"Local single-user mode: the profile **{user}** is now empty. Add exports in the Upload tab to "
                 "start again." if self.local_user == user else
                 "Your API tokens no longer work. **Please [sign out](/ui/logout) now.**")
        return f"**Everything about {user} was deleted** ({counts or 'nothing was stored'}).\n\n{after}", ""


def audit_text(action: str, detail: dict[str, Any]) -> str:
    """One audit entry as a line: the question and the ids of the records read, or the counts."""
    if action == "ask":
        ids = list(detail.get("records_read") or [])
        return f"{detail.get('question', '')} → read {len(ids)} record(s)" + (f": {', '.join(ids)}" if ids else "")
    return ", ".join(f"{k}={v}" for k, v in detail.items())
