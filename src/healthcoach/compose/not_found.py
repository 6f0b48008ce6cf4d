"""Honest 'not in your records': one line saying what was searched (across how many records, from how
many sources, through which date), then the closest thing that does exist, never unrelated filler."""

from __future__ import annotations

from healthcoach.compose.citations import Citer, fmt_date
from healthcoach.compose.phrasing import item_line, plural, value_of, when
from healthcoach.records.models import CATEGORY_TITLES, Category
from healthcoach.records.render import in_sentence
from healthcoach.retrieval.executor import QueryResult

# "among your 40 social history records", not "among your 40 social history".
SCOPES = {Category.social_history: "social history records", Category.pregnancy: "pregnancy records",
          Category.wearable: "wearable records", Category.vital: "vital signs"}


def not_found(result: QueryResult, cite: Citer, name: str) -> str:
    """The not-found answer for a query result without records."""
    q, t = result.query, result.target
    scope = SCOPES.get(t.category, CATEGORY_TITLES[t.category].lower()) if t.category else "records"
    sources = plural(result.source_count, "source", "sources")
    window = "" if q.window.is_ever else f" {q.window.describe()}"
    what = t.name if not q.concepts or t.category is None else _what(name, t.name)
    if result.op is not None and not result.op.records and result.op.used:
        n = len(result.op.used)
        line = (f"Your {plural(n, 'record', 'records')} of {in_sentence(name)}{window} carry no number "
                "to compute with, so I can't answer that from them.")
    elif result.category_count == 0:
        line = (f"I found no {in_sentence(what)}{window}: there are no {scope} in your records yet "
                f"({sources} connected). If you have them, add an export and ask again.")
    else:
        through = f", through {fmt_date(result.newest)}" if result.newest else ""
        if result.category_count == 1:
            scope = scope[:-3] + "y" if scope.endswith("ies") else scope.removesuffix("s")
        line = (f"I found no {in_sentence(what)}{window} among your {result.category_count} {scope} from "
                f"{sources}{through}.")
    return line + _closest(result, cite)


def _what(name: str, target_name: str) -> str:
    return target_name if target_name.lower().startswith(name.lower()) else name


def _closest(result: QueryResult, cite: Citer) -> str:
    recs, kind = result.closest, result.closest_kind
    if not recs:
        return ""
    if kind == "outside_window":
        parts = "; ".join(f"{value_of(r)} on {when(r)} {cite(r)}" if r.value or r.components else
                          f"{r.label} on {when(r)} {cite(r)}" for r in recs)
        return f" The nearest outside that window: {parts}."
    if kind == "related":
        # The closest concept by name only: a suggestion of what to ask, not a value to read beside the question.
        name = in_sentence(result.closest_name)
        return f" Your records do have {name} records; ask \"what's my {name}?\" to see them."
    if kind == "same_words":
        lines = "; ".join(f"{r.label} ({CATEGORY_TITLES[r.category].lower()}, {when(r)}) {cite(r)}" for r in recs)
        return f" Closest in your records by name: {lines}."
    lines = "\n".join(f"- {item_line(r, cite)}" for r in recs)
    title = CATEGORY_TITLES[recs[0].category].lower()
    return f"\n\nYour records list these {title}:\n{lines}"
