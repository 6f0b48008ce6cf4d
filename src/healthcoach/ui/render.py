"""What the UI shows as text: the safety banner, examples, which categories it browses, and a reply as
chat messages with its sources."""

from __future__ import annotations

from typing import Any

from healthcoach.records.models import Category

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
    mark = MARKS.get(str(reply.get("action")), "")
    out: list[dict[str, Any]] = [{"role": "assistant", "content": mark + str(reply["text"])}]
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
