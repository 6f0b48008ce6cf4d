"""What the UI shows as text: the safety banner, examples, which categories it browses, and a reply as
chat messages with its sources."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from healthcoach.records.models import Category

BANNER = ("**healthcoach is a wellness coach, not a doctor.** In an emergency call 911 (or your local emergency "
          "number); for a mental-health crisis call or text 988.")
EXAMPLES = ["What's my A1c?", "When's the last time I got a flu shot?", "Summarize my medical records",
            "What is A1c?", "How can I improve my cholesterol?"]
BROWSE = (Category.allergy, Category.medication, Category.immunization, Category.lab, Category.vital,
          Category.procedure, Category.pregnancy, Category.condition, Category.social_history, Category.encounter,
          Category.wearable)
COLUMNS = ["date", "record", "value", "range", "status", "source"]
EMERGENCY_CARD = ("<div class='hc-emergency'><strong>🚨 Emergency: please get help now.</strong><br>"
                  "<a href='tel:911'>📞 Call 911</a><a href='tel:988'>💬 Call or text 988 (crisis line)</a>"
                  "<a href='tel:18002221222'>☎️ Poison Control 1-800-222-1222</a></div>\n\n")
MARKS = {"escalate": EMERGENCY_CARD,
         "redirect": "<div class='hc-redirect'>⚠️ <strong>Safety redirect</strong></div>\n\n",
         "answer_with_care": "<div class='hc-care'>💬 <strong>General information, not a diagnosis</strong></div>\n\n"}


def header_html(name: str, user: str, newest: date | None, records: int, local: bool = False) -> str:
    """The header: whose records these are, the date they run to, and how to sign out."""
    runs_to = f"records to {newest:%b %d, %Y}" if newest else "no dated records yet"
    who = (f"local single-user mode ({escape(user)}; this server only listens on this computer)" if local
           else f"Signed in as {escape(user)} · <a href='/ui/logout'>Sign out</a>")
    return (f"<div id='hc-header'><h1>{escape(name)}</h1><span class='hc-sub'>{runs_to} · {records} records"
            f" · {who}</span></div>")


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
