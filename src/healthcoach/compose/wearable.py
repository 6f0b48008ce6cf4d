"""Wearable answers computed from the daily table: the window, the days with data, cited days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from healthcoach.compose.citations import Citer, fmt_date
from healthcoach.records.models import Record, format_number
from healthcoach.retrieval.evidence import Evidence
from healthcoach.wearables.stats import WindowStats

NOUN = {"sleep": ("night", "nights"), "steps": ("day", "days")}
LABEL = {"sleep": "Sleep", "steps": "Steps", "resting_heart_rate": "Resting heart rate", "heart_rate": "Heart rate",
         "spo2": "Blood oxygen", "weight": "Weight", "hrv": "Heart rate variability", "distance": "Distance",
         "active_minutes": "Active minutes", "calories": "Calories"}


def fmt_metric(metric: str, value: float, computed: set[str]) -> str:
    """'6 h 50 min', '8432 steps', '61 bpm'; records the numbers it writes as computed."""
    if metric == "sleep":
        h, m = divmod(int(round(value)), 60)
        computed.update({str(h), str(m)})
        return f"{h} h {m} min"
    if metric == "steps":
        v = str(int(round(value)))
        computed.add(v)
        return f"{v} steps"
    unit = {"resting_heart_rate": "bpm", "heart_rate": "bpm", "spo2": "%", "weight": "kg", "hrv": "ms",
            "distance": "km", "active_minutes": "min", "calories": "kcal"}.get(metric, "")
    v = format_number(round(value, 1))
    computed.add(v)
    return f"{v} {unit}".strip()


def _span(start: date, end: date) -> str:
    return f"{fmt_date(start)} to {fmt_date(end)}" if start != end else fmt_date(start)


def wearable_text(ev: Evidence, cite: Citer, today: date,
                  none: Callable[[Evidence, str], str]) -> tuple[str, set[str], str]:
    """The answer text for a wearable plan."""
    metric = ev.plan.metric or "steps"
    label = LABEL.get(metric, metric.replace("_", " ").capitalize())
    computed: set[str] = set()
    if ev.stats is None:
        return none(ev, f"{label.lower()} data from a wearable"), computed, ""
    by_id = {r.id: r for r in ev.records}
    _one, many = NOUN.get(metric, ("day", "days"))

    def hr_extremes(s: WindowStats) -> tuple[tuple[float, date] | None, tuple[float, date] | None]:
        hi = lo = None
        for d, _v, rid in s.days:
            rec = by_id.get(rid)
            for comp in rec.components if rec else ():
                if comp.value is None:
                    continue
                if comp.label == "max" and (hi is None or comp.value.value > hi[0]):
                    hi = (comp.value.value, d)
                if comp.label == "min" and (lo is None or comp.value.value < lo[0]):
                    lo = (comp.value.value, d)
        return hi, lo

    def describe(s: WindowStats) -> str:
        computed.update({str(s.days_with_data), str(s.days_in_window)})
        if not s.days_with_data:
            return f"no {many} with data ({s.days_in_window} {many} in the window)"
        assert s.mean is not None
        if metric == "heart_rate":
            hi, lo = hr_extremes(s)
            parts = []
            if hi:
                parts.append(f"highest {fmt_metric(metric, hi[0], computed)}"
                             + (f" on {fmt_date(hi[1])}" if s.days_in_window > 1 else ""))
            if lo:
                parts.append(f"lowest {fmt_metric(metric, lo[0], computed)}"
                             + (f" on {fmt_date(lo[1])}" if s.days_in_window > 1 else ""))
            parts.append(f"average {fmt_metric(metric, s.mean, computed)}")
            body = ", ".join(parts)
        elif s.days_in_window == 1:
            body = fmt_metric(metric, s.mean, computed)
        else:
            body = f"average {fmt_metric(metric, s.mean, computed)}"
        if s.days_in_window == 1:
            return body
        return f"{body} over {s.days_with_data} of {s.days_in_window} {many} recorded"

    def cites(s: WindowStats) -> str:
        return "".join(cite(by_id[rid]) for _d, _v, rid in s.days[:14] if rid in by_id)

    asked = ev.plan.window
    if isinstance(ev.stats, tuple):
        wk, we = ev.stats
        text = (f"{label}, {_span(wk.start, wk.end)}: weekdays {describe(wk)} {cites(wk)}; "
                f"weekends {describe(we)} {cites(we)}.")
    else:
        s = ev.stats
        text = f"{label}, {_span(s.start, s.end)}: {describe(s)} {cites(s)}."
        if metric != "heart_rate" and s.days_with_data > 1 and s.min is not None and s.max is not None \
                and s.min_day and s.max_day:
            low = f"{fmt_metric(metric, s.min, computed)} on {fmt_date(s.min_day)}"
            high = f"{fmt_metric(metric, s.max, computed)} on {fmt_date(s.max_day)}"
            text += f" Lowest {low}; highest {high}."
        if metric == "sleep":
            text += _stages(s.days, by_id, computed)
    shown_start = ev.stats[0].start if isinstance(ev.stats, tuple) else ev.stats.start
    if asked is not None and not (asked.start <= shown_start < asked.end):
        text = (f"There is no {label.lower()} data for {asked.describe()}; your latest wearable data ends "
                f"{fmt_date(max(r.date for r in ev.records if r.date))}, so here is the latest week instead.\n\n"
                + text)
    text += f"\n\n{many.capitalize()} without data are left out, never counted as zero."
    # The window's own dates are the question's, not a record's: they are grounded by the plan.
    spans = list(ev.stats) if isinstance(ev.stats, tuple) else [ev.stats]
    days = [d for st in spans for d in (st.start, st.end)] + ([asked.start, asked.last_day] if asked else [])
    general = " ".join(f"{d.isoformat()} {fmt_date(d)}" for d in days)
    return text, computed, general


def _stages(days: list[tuple[date, float, str]], by_id: dict[str, Record], computed: set[str]) -> str:
    totals: dict[str, list[float]] = {}
    for _d, _v, rid in days:
        rec = by_id.get(rid)
        for comp in rec.components if rec else ():
            if comp.value is not None:
                totals.setdefault(comp.label, []).append(comp.value.value)
    if not totals:
        return ""
    parts = []
    for stage in ("deep", "light", "rem", "awake"):
        vals = totals.get(stage)
        if vals:
            parts.append(f"{stage} {fmt_metric('sleep', sum(vals) / len(vals), computed)}")
    return f" Average stages: {', '.join(parts)}." if parts else ""
