"""The coach's own texts around a safety redirect, a withheld answer and consent: what the records
still say that helps, the fallback when an answer can't be checked, and how to turn records on.

The redirects themselves are policy and live as data in guardrails/responses.yaml; these texts only
add recorded facts (cited) or explain why records were not used. They never echo free text from a
record (a note, a dosage text, a comment): only labels, codes, values, status and dates (safe_text.py),
because a record may carry instructions and these texts are exactly where they must not reach."""

from __future__ import annotations

from collections.abc import Sequence

from healthcoach.compose.citations import Citer, fmt_when
from healthcoach.compose.safe_text import instruction_like, safe_label, safe_line, safe_value
from healthcoach.records.models import Record
from healthcoach.records.render import primary_code

MAX_LISTED = 10  # records listed verbatim when an answer could not be checked


def redirect_text(policy_text: str, category: str, records: Sequence[Record], cite: Citer) -> str:
    """The policy's redirect, followed by what the records list that still helps: the medications for a
    treatment question (to take to a prescriber), the mentioned results for a diagnosis question."""
    extra = ""
    if records and category == "treatment":
        lines = [f"- {safe_label(r)}{_code(r)}, {_status(r)}, {fmt_when(r)} {cite(r)}" for r in records]
        extra = "What your records list (for your conversation with your prescriber or pharmacist):\n" + \
            "\n".join(lines)
    elif records and category == "diagnosis":
        lines = [f"- {safe_label(r)}{_code(r)}: {safe_value(r) or 'recorded'} on {fmt_when(r)} {cite(r)}"
                 for r in records]
        extra = "What your records say that may be relevant to bring to a clinician:\n" + "\n".join(lines)
    return f"{policy_text}\n\n{extra}" if extra else policy_text


def unchecked_answer_text(records: Sequence[Record], cite: Citer) -> str:
    """What replaces an answer the output guard rejected: the records themselves, by label, code, value and
    date (no free text from them)."""
    lines = [f"- {safe_line(r)} {cite(r)}" for r in records[:MAX_LISTED]]
    if not lines:
        return "I couldn't produce an answer I could check against your records. Please rephrase the question."
    return ("I couldn't phrase an answer I could fully check against your records, so here are the "
            "records themselves:\n" + "\n".join(lines))


def _status(rec: Record) -> str:
    return rec.status if rec.status and not instruction_like(rec.status) else "recorded"


def _code(rec: Record) -> str:
    code = primary_code(rec)
    return f" ({code.replace(':', ' ')})" if code else ""


def records_off_text(user_id: str, unknown: bool) -> str:
    """Why records were not used: consent is off (and how to turn it on), or there is no such profile."""
    if unknown:
        return "There is no profile with records for you yet. Add an export to get answers from your records."
    return (f"Using your health records in chat is off. To let me answer from your records, turn it on with "
            f"`healthcoach consent --user {user_id} --records on` or in the Privacy tab.")
