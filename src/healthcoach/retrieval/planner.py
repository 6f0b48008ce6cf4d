"""The deterministic planner: what is being asked (intent), about what (concept, category), and when.

Rules first, in order of specificity; the same words always give the same plan. An LLM may refine a
plan later, never replace it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from healthcoach.knowledge.catalog import Catalog, Concept, WellnessTopic, find_wellness
from healthcoach.records.models import Category
from healthcoach.retrieval.timewindow import Window, parse_window


class Intent(StrEnum):
    latest_value = "latest_value"
    history = "history"
    last_event = "last_event"
    list = "list"
    category_summary = "category_summary"
    record_summary = "record_summary"
    explain_concept = "explain_concept"
    explain_results = "explain_results"
    wellness_guidance = "wellness_guidance"
    wearable_summary = "wearable_summary"
    search = "search"
    help = "help"


# Words for categories when no concept is named ("my meds", "my allergies", "my vaccines").
CATEGORY_WORDS: list[tuple[str, Category]] = [
    (r"med(?:ication|icine)?s|prescriptions?|drugs? (?:am i|i'm|i am)|pills", Category.medication),
    (r"allerg(?:y|ys|ies|ic)", Category.allergy),
    (r"vaccin(?:e|es|ations?)|immuni[sz]ations?|shots|jabs", Category.immunization),
    (r"conditions?|diagnos[ie]s|problems?|health issues|illness(?:es)?|medical history", Category.condition),
    (r"labs?|lab (?:tests?|results?|work)|blood ?(?:tests?|work)|test results", Category.lab),
    (r"vitals?|vital signs", Category.vital),
    (r"procedures?|surger(?:y|ies)|operations?", Category.procedure),
    (r"visits?|appointments?|encounters?|check-?ups?", Category.encounter),
    (r"pregnanc(?:y|ies)|prenatal", Category.pregnancy),
    (r"notes?|clinical notes|documents?", Category.document),
    (r"social history", Category.social_history),
    (r"care ?plans?|treatment plans?|(?:health |care )?goals?", Category.care_plan),
]
_CAT_RE = [(re.compile(rf"\b(?:{p})\b"), c) for p, c in CATEGORY_WORDS]
LISTABLE = {Category.medication, Category.allergy, Category.immunization, Category.condition,
            Category.procedure, Category.encounter, Category.pregnancy, Category.document, Category.care_plan}
EVENT_CATEGORIES = {Category.immunization, Category.procedure, Category.encounter}
# Concepts wearables measure day by day → the daily metric they are computed from.
WEARABLE_METRIC = {"steps": "steps", "sleep_duration": "sleep", "resting_heart_rate": "resting_heart_rate",
                   "heart_rate": "heart_rate", "oxygen_saturation": "spo2", "weight": "weight"}

_HELP = re.compile(r"^\s*(help|\?|what can (you|i) (do|ask)|how do (i use|you work)|what do you do)\b")
_SUMMARY = re.compile(r"\b(summar(?:y|ize|ise)|overview|rundown)\b.*\b(records?|health|history|chart|everything|me)\b|"
                      r"\b(my|the) (whole|entire|full) (record|chart|history)\b")
_EXPLAIN = re.compile(r"^\s*(?:what(?:'s| is| are| does)|whats|explain|define|tell me about|meaning of)\b")
_MY = re.compile(r"\b(my|mine|i|i'm|im|me|do i|did i|have i)\b")
_RESULTS_MEAN = re.compile(r"\b(mean|explain|understand|interpret)\b")
_WELLNESS = re.compile(r"\b(improve|lower|raise|increase|reduce|decrease|boost|better|healthier|tips?|advice|"
                       r"how (?:can|do|should) i (?:get|be|stay|keep|lose|gain|sleep|eat|quit|cut|manage)|"
                       r"exercises?|stretch(?:es|ing)?|ways? to|what can i do)\b")
_EVENT = re.compile(r"\b(when|last time|most recent|latest|last)\b")
_HISTORY = re.compile(r"\b(history|trend|over time|over the years|all (?:my|of my)|previous|past|earlier|changed?|"
                      r"going up|going down|series|results over)\b")
_LIST = re.compile(r"\b(what|which|list|show|any|do i have|am i (?:on|taking)|i'm (?:on|taking)|current|active|all)\b")
_BEFORE = re.compile(r"^\s*(?:and |ok |okay |what about )?(?:before that|the one before|earlier|previous one|prior)\b")
_WHAT_ABOUT = re.compile(r"^\s*(?:and |ok |okay )?(?:what|how) about\b|^\s*and (?:my )?\w+\s*\??\s*$")
_LAB_WORDS = re.compile(r"\b(?:levels?|results?|tests?|values?|numbers?|readings?|labs?|blood ?work)\b")
_DISTANCE = re.compile(r"\bhow far\b|\bdistance\b|\bkm\b|\bkilomet|\bmiles?\b")
_TREND = re.compile(r"\b(?:trend\w*|going (?:up|down)|up or down|down or up|over time|increasing|decreasing|rising|"
                    r"falling|getting (?:better|worse|higher|lower))\b")
_WEARABLE_WORDS = re.compile(r"\b(how far|distance|sleep|slept|steps?|walk(?:ed)?|resting heart|heart rate|pulse|spo2|oxygen|"
                             r"weekends?|weekdays?|average|averaged|highest|lowest)\b")


@dataclass(frozen=True)
class Plan:
    """What to look up and how to answer."""

    intent: Intent
    concepts: tuple[str, ...] = ()
    category: Category | None = None
    window: Window | None = None
    wellness: str | None = None
    metric: str | None = None
    offset: int = 0  # "and before that?" skips the newest N results
    weekend_compare: bool = False
    trend: bool = False  # wearables: say whether the metric went up or down over the window
    followup: bool = False
    terms: tuple[str, ...] = ()  # medication names from the user's own records that the message mentions


class Planner:
    """Turns a message (plus the conversation's earlier user turns) into a Plan."""

    def __init__(self, catalog: Catalog, wellness: Sequence[WellnessTopic]) -> None:
        self.catalog, self.wellness = catalog, list(wellness)

    def plan(self, message: str, today: date, history: Sequence[str] = (), has_wearables: bool = False,
             medications: Sequence[str] = ()) -> Plan:
        """Plan a message; earlier user turns (oldest first) resolve follow-ups.

        `medications` are medication names from the user's records ("lisinopril"), so a question
        about one is answered from the medication list rather than by fuzzy search."""
        text = " ".join(message.lower().split())
        named = tuple(m for m in medications if re.search(rf"\b{re.escape(m.lower())}\b", text))
        if named and _LAB_WORDS.search(text) and any(c.category is Category.lab for c in self._concepts(text)):
            named = ()  # "my vitamin D level" asks for a lab result, not the Vitamin D3 prescription
        if named:
            return Plan(Intent.list, category=Category.medication, terms=named)
        previous = self._previous(history, today, has_wearables)
        if previous is not None:
            if _BEFORE.search(text):
                return replace(previous, offset=previous.offset + 1, followup=True,
                               intent=Intent.history if previous.intent is Intent.latest_value else previous.intent)
            if _WHAT_ABOUT.search(text):
                found = self._concepts(text)
                if found:
                    return replace(self._for_concepts(previous.intent, found, previous.window, has_wearables),
                                   followup=True)
        return self._plan(text, today, has_wearables)

    def _previous(self, history: Sequence[str], today: date, has_wearables: bool) -> Plan | None:
        plan = None
        for turn in history[-6:]:
            t = " ".join(turn.lower().split())
            candidate = self._plan(t, today, has_wearables)
            if candidate.concepts or candidate.category:
                plan = candidate
            elif plan is not None and _BEFORE.search(t):
                plan = replace(plan, offset=plan.offset + 1)
        return plan

    def _concepts(self, text: str) -> list[Concept]:
        return [c for c, _ in self.catalog.find_fuzzy(text)]

    def _plan(self, text: str, today: date, has_wearables: bool) -> Plan:
        window = parse_window(text, today)
        if _HELP.search(text):
            return Plan(Intent.help)
        if _SUMMARY.search(text):
            return Plan(Intent.record_summary, window=window)
        concepts = self._concepts(text)
        category = next((c for rx, c in _CAT_RE if rx.search(text)), None)
        topics = find_wellness(self.wellness, text) if _WELLNESS.search(text) else []
        mine = bool(_MY.search(text))
        if has_wearables and re.search(r"\b(weekends?|weekdays?)\b", text) and _WEARABLE_WORDS.search(text):
            metric = "sleep" if re.search(r"\bsle(?:ep|pt)\b", text) else "steps" if "step" in text else "resting_heart_rate"
            return Plan(Intent.wearable_summary, metric=metric, window=window, weekend_compare=True)
        if topics and not re.search(r"\b(when|what was|what's my|whats my|what is my)\b", text):
            ids = tuple(c.id for c in concepts) or topics[0].related_concepts
            return Plan(Intent.wellness_guidance, concepts=tuple(ids), wellness=topics[0].id, window=window)
        if concepts and _EXPLAIN.search(text) and not mine:
            return Plan(Intent.explain_concept, concepts=(concepts[0].id,))
        if category is Category.lab and _RESULTS_MEAN.search(text) and not concepts:
            return Plan(Intent.explain_results, category=Category.lab, window=window)
        if concepts:
            base = Intent.latest_value
            if _HISTORY.search(text) or (window is not None and window.end <= today):
                base = Intent.history
            if concepts[0].category in EVENT_CATEGORIES and _EVENT.search(text):
                base = Intent.last_event
            plan = self._for_concepts(base, concepts, window, has_wearables)
            trend = bool(_TREND.search(text))
            daily = WEARABLE_METRIC.get(concepts[0].id)
            if has_wearables and trend and daily and plan.intent is not Intent.wearable_summary:
                plan = Plan(Intent.wearable_summary, concepts=(concepts[0].id,), metric=daily, window=window)
            if plan.intent is Intent.wearable_summary:
                plan = replace(plan, trend=trend, weekend_compare=bool(re.search(r"\bweekends?\b|\bweekdays?\b", text)))
            return plan
        if has_wearables and _WEARABLE_WORDS.search(text):
            metric = "distance" if _DISTANCE.search(text) else "sleep" if re.search(r"\bsle(?:ep|pt)\b", text) else \
                "steps" if re.search(r"\bsteps?|walk", text) else "heart_rate"
            return Plan(Intent.wearable_summary, metric=metric, window=window, trend=bool(_TREND.search(text)),
                        weekend_compare=bool(re.search(r"\bweekends?\b", text)))
        if category is not None:
            if category in EVENT_CATEGORIES and _EVENT.search(text) and not re.search(r"\b(list|all)\b", text):
                return Plan(Intent.last_event, category=category, window=window)
            if category in LISTABLE and (_LIST.search(text) or mine):
                return Plan(Intent.list, category=category, window=window)
            return Plan(Intent.category_summary, category=category, window=window)
        return Plan(Intent.search, window=window)

    def _for_concepts(self, intent: Intent, concepts: Sequence[Concept], window: Window | None,
                      has_wearables: bool) -> Plan:
        first = concepts[0]
        if intent in (Intent.explain_concept, Intent.wellness_guidance):
            return Plan(intent, concepts=(first.id,), window=window)
        metric = WEARABLE_METRIC.get(first.id)
        if has_wearables and metric and (first.category is Category.wearable or window is not None):
            return Plan(Intent.wearable_summary, concepts=(first.id,), metric=metric, window=window)
        if first.category in (Category.condition, Category.medication) and intent is Intent.latest_value:
            return Plan(Intent.list, concepts=tuple(c.id for c in concepts), category=first.category, window=window)
        if intent in (Intent.list, Intent.category_summary, Intent.record_summary, Intent.search, Intent.help,
                      Intent.explain_results, Intent.wearable_summary):
            intent = Intent.latest_value
        if first.category in EVENT_CATEGORIES and intent is Intent.latest_value:
            intent = Intent.last_event
        return Plan(intent, concepts=tuple(c.id for c in concepts), category=first.category, window=window)
