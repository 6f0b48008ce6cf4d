"""The Gradio UI (Blocks): chat with streaming and citations, records browser, trend charts, upload,
consent. It calls the same ChatService and stores as the API; no logic of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
import gradio as gr

from healthcoach.errors import HealthCoachError
from healthcoach.knowledge.catalog import load_catalog
from healthcoach.records.models import CATEGORY_TITLES, Category
from healthcoach.ui import charts
from healthcoach.ui.privacy import PrivacyPanel, audit_text  # noqa: F401 - re-exported for tests

if TYPE_CHECKING:
    from healthcoach.api.deps import CoachBundle

BANNER = ("**healthcoach is a wellness coach, not a doctor.** In an emergency call 911 (or your local emergency "
          "number); for a mental-health crisis call or text 988.")
LOCAL_NOTE = ("Local single-user mode: no sign-in, because this server only listens on 127.0.0.1 (this computer). "
              "Showing the records of **{user}**.")
EXAMPLES = ["What's my A1c?", "When's the last time I got a flu shot?", "Summarize my medical records",
            "What is A1c?", "How can I improve my cholesterol?"]
BROWSE = (Category.allergy, Category.medication, Category.immunization, Category.lab, Category.vital,
          Category.procedure, Category.pregnancy, Category.condition, Category.social_history, Category.encounter,
          Category.wearable)
COLUMNS = ["date", "record", "value", "status", "source"]
MARKS = {"escalate": "🚨 **Emergency — please get help now.**\n\n", "redirect": "⚠️ **Safety redirect**\n\n"}


def reply_messages(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer (safety redirects marked) and, under it, its citations in a collapsed 'Sources' block."""
    out: list[dict[str, Any]] = [{"role": "assistant", "content": MARKS.get(str(reply.get("action")), "") + str(reply["text"])}]
    cites = reply.get("citations") or []
    if cites:
        lines = [f"[{c['n']}] {c.get('date') or 'undated'} · {c['label']}"
                 + (f": {c['value']}{' ' + c['unit'] if c.get('unit') else ''}" if c.get("value") else "")
                 + f" · {c['source']}" for c in cites]
        out.append({"role": "assistant", "content": "\n\n".join(lines),
                    "metadata": {"title": f"Sources ({len(cites)})", "status": "done"}})
    if reply.get("as_of"):
        out[0]["content"] += f"\n\n*As of {reply['as_of']}.*"
    return out


def build_ui(bundle: CoachBundle, local_user: str | None = None) -> gr.Blocks:
    """The Blocks app. Each handler reads the signed-in user from the request (or the local user)."""
    store, catalog = bundle.stores.records, load_catalog()

    def user_of(request: gr.Request | None) -> str:
        name = getattr(request, "username", None) if request is not None else None
        name = name or local_user
        if not name:
            raise gr.Error("Please sign in.")
        return str(name)

    def respond(message: str, history: list[Any], cid: str, request: gr.Request
                ) -> Iterator[tuple[str, list[Any], str]]:
        message = (message or "").strip()
        if not message:
            yield "", history, cid
            return
        user = user_of(request)
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        yield "", history, cid
        try:
            for kind, payload in bundle.chat.stream(user, message, cid or None):
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

    def tables(request: gr.Request) -> list[Any]:
        user = user_of(request)
        out: list[Any] = []
        for cat in BROWSE:
            rows = [[r.date.isoformat() if r.date else "", r.label, (r.value_display() or "")[:80], r.status or "",
                     r.source_display()] for r in store.query(user, categories=[cat])]
            out.append(rows or [["", f"No {CATEGORY_TITLES[cat].lower()} in your records", "", "", ""]])
        return out

    def plots(request: gr.Request) -> list[Any]:
        user = user_of(request)
        return (charts.figures(store, catalog, user, "lab") + charts.figures(store, catalog, user, "vital")
                + charts.wearable_figures(store, user))

    def who(request: gr.Request) -> tuple[str, bool]:
        user = user_of(request)
        row = store.ensure_user(user)
        counts = store.record_counts(user)
        note = LOCAL_NOTE.format(user=user) if local_user else f"Signed in as **{user}** · [Sign out](/ui/logout)"
        return f"{note} · {sum(counts.values())} records stored", bool(row.use_records_in_chat)

    def set_consent(on: bool, request: gr.Request) -> str:
        from healthcoach.privacy import set_consent as record_consent

        record_consent(store, user_of(request), records=on)
        return "Records are used in chat." if on else "Records are not used in chat (general answers only)."

    def upload(files: list[Any] | None, request: gr.Request, progress: gr.Progress = gr.Progress()) -> str:
        user = user_of(request)
        if not files:
            return "Choose one or more export files first."
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]

        def say(stage: str, done: int, total: int) -> None:
            progress((done, total) if total else None, desc=stage)

        try:
            report = bundle.stores.ingestor.ingest(user, paths, progress=say)
        except HealthCoachError as exc:
            return f"⚠️ Nothing was stored: {exc.message}"
        lines = [f"- {CATEGORY_TITLES.get(Category(c), c)}: {n}" for c, n in sorted(report.records_by_category.items())]
        skipped = "".join(f"\n- skipped ({reason}): {n}" for reason, n in report.skipped.items())
        return (f"**Stored {report.total_records} records** ({report.new} new, {report.updated} updated, "
                f"{report.unchanged} unchanged) in {report.seconds:.1f} s\n" + "\n".join(lines) + skipped)

    def log_entry(kind: str, amount: str, request: gr.Request) -> str:
        from healthcoach.wearables.manual import manual_entry

        user = user_of(request)
        try:
            record = manual_entry(user, kind, amount, None)  # type: ignore[arg-type]
        except ValueError as exc:
            return f"⚠️ {exc}"
        bundle.stores.ingestor.add_records(user, [record])
        return f"Logged {record.label.lower()}: {record.value_display()} on {record.date}."

    # delete_cache: files Gradio copies (e.g. an export zip) are removed after a day, checked hourly.
    with gr.Blocks(title="healthcoach", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.Markdown(f"> {BANNER}", elem_id="banner")
        status = gr.Markdown(elem_id="whoami")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
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
                    trigger(respond, [box, chatbot, cid], [box, chatbot, cid])
                new.click(lambda: ([], ""), None, [chatbot, cid])
            with gr.Tab("Records", id="records"):
                refresh = gr.Button("Refresh", size="sm")
                frames = []
                with gr.Tabs():
                    for cat in BROWSE:
                        with gr.Tab(CATEGORY_TITLES[cat]):
                            frames.append(gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True))
            with gr.Tab("Trends", id="trends"), gr.Tabs():
                with gr.Tab("Lab trends", id="lab-trends"):
                    figs = [gr.Plot(label=t.title) for t in charts.TRENDS if t.kind == "lab"]
                with gr.Tab("Vital trends", id="vital-trends"):
                    figs += [gr.Plot(label=t.title) for t in charts.TRENDS if t.kind == "vital"]
                with gr.Tab("Wearable trends", id="wearable-trends"):
                    figs += [gr.Plot(label=t[0]) for t in charts.WEARABLE_TRENDS]
            with gr.Tab("Upload", id="upload"):
                gr.Markdown("Add exports of **your own** records (FHIR R4 JSON/NDJSON or a .zip of them). "
                            "All or nothing: a file that cannot be read stores nothing.")
                files = gr.File(file_count="multiple", label="Export files")
                add = gr.Button("Add to my records", variant="primary")
                report = gr.Markdown()
                add.click(upload, [files], [report]).then(tables, None, frames).then(plots, None, figs)
                gr.Markdown("**Log a measurement yourself**")
                with gr.Row():
                    log_kind = gr.Dropdown(["weight", "water"], value="weight", label="What", scale=1)
                    log_amount = gr.Textbox(label="Amount", placeholder="72.5kg, 160 lb, 500ml", scale=2)
                    log_button = gr.Button("Log", scale=1)
                log_note = gr.Markdown()
                log_button.click(log_entry, [log_kind, log_amount], [log_note]).then(plots, None, figs)
            with gr.Tab("Privacy", id="privacy") as privacy_tab:
                panel = PrivacyPanel(bundle, local_user)
                consent = gr.Checkbox(label="Use my records to answer my questions")
                remote = gr.Checkbox(label="Let a remote language model (outside this computer) see my question and "
                                           "the records used to answer it")
                consent_note = gr.Markdown()
                history = gr.Dataframe(headers=list(PrivacyPanel.HISTORY), interactive=False, label="Consent changes")
                gr.Markdown("**Your data**: everything held about you as a zip (JSON, a FHIR R4 Bundle, a README).")
                export_button = gr.Button("Download my data")
                export_file = gr.File(label="Your export", interactive=False)
                export_dir = gr.State("")
                sources = gr.Dataframe(headers=list(PrivacyPanel.SOURCES), interactive=False,
                                       label="Sources of your records")
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
                    return panel.views(user_of(request))

                def set_remote(on: bool, request: gr.Request) -> str:
                    return panel.set_remote(user_of(request), on)

                def export(request: gr.Request) -> tuple[str, str]:
                    return panel.export(user_of(request))

                def disconnect_pick(pick: str | None, request: gr.Request) -> str:
                    return panel.disconnect(user_of(request), pick)

                def delete_all(typed: str | None, request: gr.Request) -> tuple[str, str]:
                    return panel.delete(user_of(request), typed)

                # Chained, not parallel: the tables refresh after the change is stored.
                consent.input(set_consent, [consent], [consent_note]).then(show, None, views)
                remote.input(set_remote, [remote], [consent_note]).then(show, None, views)
                export_button.click(export, None, [export_file, export_dir]
                                    ).then(PrivacyPanel.discard, [export_dir], [export_dir]).then(show, None, views)
                disconnect.click(disconnect_pick, [source_pick], [source_note]).then(show, None, views
                                 ).then(tables, None, frames).then(plots, None, figs)
                delete.click(delete_all, [confirm], [delete_note, confirm]).then(show, None, views
                             ).then(tables, None, frames).then(plots, None, figs)
                privacy_tab.select(show, None, views)
                demo.load(show, None, views)
        refresh.click(tables, None, frames)
        demo.load(who, None, [status, consent]).then(tables, None, frames).then(plots, None, figs)
    assert isinstance(demo, gr.Blocks)
    return demo
