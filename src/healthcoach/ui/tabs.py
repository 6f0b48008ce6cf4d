"""The UI's tabs, one builder each. Their handlers share one Handlers object; none has logic of its own:
each calls the chat service, the stores or the privacy service for the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from healthcoach.container import CoachBundle
from healthcoach.errors import HealthCoachError
from healthcoach.knowledge.catalog import load_catalog
from healthcoach.privacy import set_consent as record_consent
from healthcoach.privacy.tempfiles import UserFiles
from healthcoach.records.models import CATEGORY_TITLES, Category
from healthcoach.ui import charts
from healthcoach.ui.privacy import PrivacyPanel
from healthcoach.ui.render import BROWSE, COLUMNS, EXAMPLES, LOCAL_NOTE, reply_messages
from healthcoach.wearables.manual import manual_entry


class Handlers:
    """The event handlers of every tab. Each reads the signed-in user from the request (or the local user);
    Gradio injects the request by its annotation."""

    def __init__(self, bundle: CoachBundle, local_user: str | None = None, files: UserFiles | None = None) -> None:
        self.bundle, self.local_user = bundle, local_user
        self.store, self.catalog = bundle.stores.records, load_catalog()
        self.files = files or UserFiles()

    def user_of(self, request: gr.Request | None) -> str:
        """The signed-in user (or the local user); a clear error when nobody is signed in."""
        name = getattr(request, "username", None) if request is not None else None
        name = name or self.local_user
        if not name:
            raise gr.Error("Please sign in.")
        return str(name)

    def respond(self, message: str, history: list[Any], cid: str, request: gr.Request
                ) -> Iterator[tuple[str, list[Any], str]]:
        """Stream the answer into the chat; the final reply replaces the streamed text, with its sources."""
        message = (message or "").strip()
        if not message:
            yield "", history, cid
            return
        user = self.user_of(request)
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        yield "", history, cid
        try:
            for kind, payload in self.bundle.chat.stream(user, message, cid or None):
                if kind == "delta":
                    history[-1] = {"role": "assistant", "content": history[-1]["content"] + str(payload["text"])}
                elif kind == "replace":  # the model's text failed the grounding check: show the checked answer
                    history[-1] = {"role": "assistant", "content": str(payload["text"])}
                elif kind == "reply":
                    history = history[:-1] + reply_messages(payload)
                    cid = str(payload["conversation_id"])
                yield "", history, cid
        except HealthCoachError as exc:
            history[-1] = {"role": "assistant", "content": f"⚠️ {exc.message}"}
            yield "", history, cid

    def tables(self, request: gr.Request) -> list[Any]:
        """One table per browsed category, newest first."""
        user = self.user_of(request)
        out: list[Any] = []
        for cat in BROWSE:
            rows = [[r.date.isoformat() if r.date else "", r.label, (r.value_display() or "")[:80], r.status or "",
                     r.source_display()] for r in self.store.query(user, categories=[cat])]
            out.append(rows or [["", f"No {CATEGORY_TITLES[cat].lower()} in your records", "", "", ""]])
        return out

    def plots(self, request: gr.Request) -> list[Any]:
        """The lab, vital and wearable trend charts."""
        user = self.user_of(request)
        return (charts.figures(self.store, self.catalog, user, "lab")
                + charts.figures(self.store, self.catalog, user, "vital")
                + charts.wearable_figures(self.store, user))

    def who(self, request: gr.Request) -> tuple[str, bool]:
        """Who is signed in, how many records are stored, and the records-in-chat flag."""
        user = self.user_of(request)
        row = self.store.ensure_user(user)
        counts = self.store.record_counts(user)
        note = LOCAL_NOTE.format(user=user) if self.local_user else f"Signed in as **{user}** · [Sign out](/ui/logout)"
        return f"{note} · {sum(counts.values())} records stored", bool(row.use_records_in_chat)

    def set_consent(self, on: bool, request: gr.Request) -> str:
        """Turn using records in chat on or off (logged)."""
        record_consent(self.store, self.user_of(request), records=on)
        return "Records are used in chat." if on else "Records are not used in chat (general answers only)."

    def upload(self, files: list[Any] | None, request: gr.Request, progress: gr.Progress = gr.Progress()) -> str:
        """Ingest uploaded exports (all or nothing) and summarise what was stored."""
        user = self.user_of(request)
        if not files:
            return "Choose one or more export files first."

        def say(stage: str, done: int, total: int) -> None:
            progress((done, total) if total else None, desc=stage)

        paths: list[Path] = []
        try:
            # Each upload moves into a private folder of its uploader (refused for anyone else), removed below.
            paths = [self.files.take_upload(user, f if isinstance(f, str) else getattr(f, "name", str(f)))
                     for f in files]
            report = self.bundle.stores.ingestor.ingest(user, paths, progress=say)
        except HealthCoachError as exc:
            return f"⚠️ Nothing was stored: {exc.message}"
        finally:
            for path in paths:
                self.files.discard(path)
        lines = [f"- {CATEGORY_TITLES.get(Category(c), c)}: {n}" for c, n in sorted(report.records_by_category.items())]
        skipped = "".join(f"\n- skipped ({reason}): {n}" for reason, n in report.skipped.items())
        return (f"**Stored {report.total_records} records** ({report.new} new, {report.updated} updated, "
                f"{report.unchanged} unchanged) in {report.seconds:.1f} s\n" + "\n".join(lines) + skipped)

    def log_entry(self, kind: str, amount: str, request: gr.Request) -> str:
        """Log a weight or water measurement as a record."""
        user = self.user_of(request)
        try:
            record = manual_entry(user, kind, amount, None)  # type: ignore[arg-type]
        except ValueError as exc:
            return f"⚠️ {exc}"
        self.bundle.stores.ingestor.add_records(user, [record])
        return f"Logged {record.label.lower()}: {record.value_display()} on {record.date}."


def chat_tab(h: Handlers) -> None:
    """The chat: a streaming answer with its sources, examples, a new-conversation button."""
    chatbot = gr.Chatbot(label="healthcoach", height=460, elem_id="chat",
                         placeholder="Ask about your records, e.g. “What's my A1c?”")
    cid = gr.State("")
    with gr.Row():
        box = gr.Textbox(placeholder="Ask a question…", show_label=False, scale=8, elem_id="question",
                         max_length=4000)
        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
    gr.Examples(EXAMPLES, inputs=box, label="Try")
    new = gr.Button("New conversation", size="sm")
    for trigger in (box.submit, send.click):
        trigger(h.respond, [box, chatbot, cid], [box, chatbot, cid])
    new.click(lambda: ([], ""), None, [chatbot, cid])


def records_tab() -> tuple[gr.Button, list[gr.Dataframe]]:
    """A table per category; returns the refresh button and the tables."""
    refresh = gr.Button("Refresh", size="sm")
    frames = []
    with gr.Tabs():
        for cat in BROWSE:
            with gr.Tab(CATEGORY_TITLES[cat]):
                frames.append(gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True))
    return refresh, frames


def trends_tab() -> list[gr.Plot]:
    """Lab, vital and wearable trend charts, one sub-tab each; returns the plots."""
    with gr.Tab("Lab trends", id="lab-trends"):
        figs = [gr.Plot(label=t.title) for t in charts.TRENDS if t.kind == "lab"]
    with gr.Tab("Vital trends", id="vital-trends"):
        figs += [gr.Plot(label=t.title) for t in charts.TRENDS if t.kind == "vital"]
    with gr.Tab("Wearable trends", id="wearable-trends"):
        figs += [gr.Plot(label=t[0]) for t in charts.WEARABLE_TRENDS]
    return figs


def upload_tab(h: Handlers, frames: list[gr.Dataframe], figs: list[gr.Plot]) -> None:
    """Add exports (all or nothing) and log a measurement; the records and charts refresh after."""
    gr.Markdown("Add exports of **your own** records (FHIR R4 JSON/NDJSON or a .zip of them). "
                "All or nothing: a file that cannot be read stores nothing.")
    files = gr.File(file_count="multiple", label="Export files")
    add = gr.Button("Add to my records", variant="primary")
    report = gr.Markdown()
    add.click(h.upload, [files], [report]).then(h.tables, None, frames).then(h.plots, None, figs)
    gr.Markdown("**Log a measurement yourself**")
    with gr.Row():
        log_kind = gr.Dropdown(["weight", "water"], value="weight", label="What", scale=1)
        log_amount = gr.Textbox(label="Amount", placeholder="72.5kg, 160 lb, 500ml", scale=2)
        log_button = gr.Button("Log", scale=1)
    log_note = gr.Markdown()
    log_button.click(h.log_entry, [log_kind, log_amount], [log_note]).then(h.plots, None, figs)


def privacy_tab(h: Handlers, demo: gr.Blocks, tab: gr.Tab, frames: list[gr.Dataframe], figs: list[gr.Plot]
                ) -> gr.Checkbox:
    """Consent, export, sources, activity and delete; returns the records-in-chat checkbox."""
    panel = PrivacyPanel(h.bundle, h.local_user, h.files)
    consent = gr.Checkbox(label="Use my records to answer my questions")
    remote = gr.Checkbox(label="Let a remote language model (outside this computer) see my question and "
                               "the records used to answer it")
    consent_note = gr.Markdown()
    history = gr.Dataframe(headers=list(PrivacyPanel.HISTORY), interactive=False, label="Consent changes")
    gr.Markdown("**Your data**: everything held about you as a zip (JSON, a FHIR R4 Bundle, a README).")
    export_button = gr.Button("Download my data")
    export_link = gr.Markdown(elem_id="export-link")
    sources = gr.Dataframe(headers=list(PrivacyPanel.SOURCES), interactive=False, label="Sources of your records")
    with gr.Row():
        source_pick = gr.Dropdown([], label="Source", scale=3)
        disconnect = gr.Button("Disconnect", scale=1)
    source_note = gr.Markdown()
    activity = gr.Dataframe(headers=list(PrivacyPanel.ACTIVITY), interactive=False, wrap=True,
                            label="Activity (record ids only, never their content)")
    gr.Markdown("**Delete everything**: records, search index, conversations, profile, tokens. Permanent.")
    with gr.Row():
        confirm = gr.Textbox(label="Type your user id to confirm", scale=3)
        delete = gr.Button("Delete everything", variant="stop", scale=1)
    delete_note = gr.Markdown()
    views = [consent, remote, history, sources, source_pick, activity]

    # Gradio injects the request by annotation, so these are defs, not lambdas.
    def show(request: gr.Request) -> list[Any]:
        return panel.views(h.user_of(request))

    def set_remote(on: bool, request: gr.Request) -> str:
        return panel.set_remote(h.user_of(request), on)

    def export(request: gr.Request) -> str:
        return panel.export(h.user_of(request))[1]

    def disconnect_pick(pick: str | None, request: gr.Request) -> str:
        return panel.disconnect(h.user_of(request), pick)

    def delete_all(typed: str | None, request: gr.Request) -> tuple[str, str]:
        return panel.delete(h.user_of(request), typed)

    # Chained, not parallel: the tables refresh after the change is stored.
    consent.input(h.set_consent, [consent], [consent_note]).then(show, None, views)
    remote.input(set_remote, [remote], [consent_note]).then(show, None, views)
    export_button.click(export, None, [export_link]).then(show, None, views)
    disconnect.click(disconnect_pick, [source_pick], [source_note]).then(show, None, views
                     ).then(h.tables, None, frames).then(h.plots, None, figs)
    delete.click(delete_all, [confirm], [delete_note, confirm]).then(show, None, views
                 ).then(h.tables, None, frames).then(h.plots, None, figs)
    tab.select(show, None, views)
    demo.load(show, None, views)
    return consent
