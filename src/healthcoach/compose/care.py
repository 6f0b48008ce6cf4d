"""answer_with_care: a calm, general answer to a worried health question that has no red flag.

The reply is built from policy texts (guardrails/care_texts.yaml) around the ordinary checked
answer: an opening, general facts for the topic, what the person's own records say (only when the
question resolved to a record look-up, so a fuzzy search never pads a worried answer), the signs
that mean it is time to seek care, and the emergency line. It never diagnoses and never refuses;
the record part is the same grounded template answer the output guard already checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from healthcoach.compose.reply import Reply
from healthcoach.guardrails.care_texts import CareTexts
from healthcoach.retrieval.planner import Intent

# Intents whose answer states facts from the person's records (a look-up, never an interpretation).
RECORD_INTENTS = frozenset({Intent.latest_value, Intent.history, Intent.last_event, Intent.list,
                            Intent.category_summary, Intent.record_summary, Intent.wearable_summary})


@dataclass(frozen=True)
class CareAnswer:
    """The care reply text, and whether it kept the record part (and so its citations)."""

    text: str
    topic: str
    kept_records: bool


def care_answer(texts: CareTexts, message: str, intent: str, records_text: str, cited: bool) -> CareAnswer:
    """Compose the care reply for message; records_text is the checked look-up answer for its plan."""
    topic = texts.topic_for(message)
    keep = cited and bool(records_text.strip()) and intent in RECORD_INTENTS
    parts = [texts.opening, topic.facts.strip()]
    if keep:
        parts.append(f"{texts.records_heading}\n{records_text.strip()}")
    parts.append(texts.seek_care_heading + "\n" + "\n".join(f"- {s}" for s in topic.seek_care))
    parts.append(texts.closing.strip())
    return CareAnswer(text="\n\n".join(p.strip() for p in parts), topic=topic.name, kept_records=keep)


def with_care(reply: Reply, texts: CareTexts, message: str) -> Reply:
    """The checked reply to a worried question, answered with care (action answer_with_care).

    The record part and its citations are kept only when the question was a record look-up."""
    care = care_answer(texts, message, reply.intent, reply.text, bool(reply.citations))
    keep: dict[str, object] = {} if care.kept_records else {"citations": [], "as_of": None}
    return reply.model_copy(update={"text": care.text, "action": "answer_with_care", **keep})
