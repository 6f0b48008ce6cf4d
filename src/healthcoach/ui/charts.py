"""Trend charts drawn from the record store (matplotlib Figures, no pyplot global state: thread-safe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from matplotlib.figure import Figure

from healthcoach.knowledge.catalog import Catalog
from healthcoach.records.models import Category, Record
from healthcoach.store.records import RecordStore
from healthcoach.wearables.stats import daily_table

SYSTOLIC, DIASTOLIC = "LOINC:8480-6", "LOINC:8462-4"


@dataclass(frozen=True)
class Trend:
    """One chart: a title and the concepts (from the catalog) drawn as lines."""

    title: str
    concepts: tuple[str, ...]
    kind: str  # "lab" or "vital"


TRENDS = (
    Trend("Hemoglobin A1c", ("a1c",), "lab"),
    Trend("Cholesterol", ("total_cholesterol", "ldl", "hdl"), "lab"),
    Trend("Blood pressure", ("blood_pressure",), "vital"),
    Trend("Weight", ("weight",), "vital"),
)
Series = dict[str, list[tuple[date, float]]]


def _component(rec: Record, code: str) -> float | None:
    for comp in rec.components:
        if comp.value is not None and any(c.key == code for c in comp.codes):
            return comp.value.value
    return None


def series_for(store: RecordStore, catalog: Catalog, user_id: str, trend: Trend) -> tuple[Series, str]:
    """{line name: [(date, value)] oldest first} and the unit, from the user's records."""
    out: Series = {}
    unit = ""
    for concept_id in trend.concepts:
        concept = catalog.get(concept_id)
        if concept is None:
            continue
        for rec in reversed(store.query(user_id, code_keys=concept.code_keys)):
            if rec.date is None:
                continue
            sys_v, dia_v = _component(rec, SYSTOLIC), _component(rec, DIASTOLIC)
            if sys_v is not None or dia_v is not None:
                for name, v in (("Systolic", sys_v), ("Diastolic", dia_v)):
                    if v is not None:
                        out.setdefault(name, []).append((rec.date, v))
                unit = "mmHg"
            elif rec.value is not None:
                out.setdefault(concept.name, []).append((rec.date, rec.value.value))
                unit = unit or (rec.value.unit or "")
    return out, unit


def trend_figure(title: str, series: Series, unit: str) -> Figure:
    """A line chart of the series (a friendly note when there is nothing to draw)."""
    fig = Figure(figsize=(7, 3.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    if not series:
        ax.text(0.5, 0.5, f"No {title.lower()} results in your records yet", ha="center", va="center")
        ax.set_axis_off()
        return fig
    for name, points in series.items():
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", label=name)
    ax.set_title(f"{title} ({unit})" if unit else title)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(loc="best", fontsize="small")
    fig.autofmt_xdate()
    return fig


def figures(store: RecordStore, catalog: Catalog, user_id: str, kind: str) -> list[Figure]:
    """The charts of one kind (lab or vital) for a user."""
    return [trend_figure(t.title, *series_for(store, catalog, user_id, t)) for t in TRENDS if t.kind == kind]


WEARABLE_TRENDS = (("Steps", "steps", 1.0, "steps/day"), ("Sleep", "sleep", 1 / 60, "hours/night"),
                   ("Resting heart rate", "resting_heart_rate", 1.0, "bpm"))


def wearable_figures(store: RecordStore, user_id: str) -> list[Figure]:
    """Daily steps, sleep and resting heart rate from wearable records (days without data are gaps)."""
    table = daily_table(store.query(user_id, categories=[Category.wearable]))
    figs = []
    for title, metric, scale, unit in WEARABLE_TRENDS:
        days = table.get(metric, {})
        points = [(d, rec.value.value * scale) for d, rec in sorted(days.items()) if rec.value is not None]
        figs.append(trend_figure(title, {title: points} if points else {}, unit))
    return figs
