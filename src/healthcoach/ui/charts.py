"""Trend charts drawn from the record store as interactive Plotly figures (hover shows date and value).

Each lab or vital chart shades the lab's own reference range and marks the points outside it; the y-axis
spans the data and the band with a margin, never a zoom that makes a 0.2-unit change look dramatic.
Weights follow the person's unit setting; daily wearable charts have day ticks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go

from healthcoach.knowledge.catalog import Catalog
from healthcoach.records.models import Category, Record
from healthcoach.records.units import convert, display_unit
from healthcoach.settings import DisplaySettings
from healthcoach.store.records import RecordStore
from healthcoach.wearables.stats import daily_table

SYSTOLIC, DIASTOLIC = "LOINC:8480-6", "LOINC:8462-4"
BAND = "rgba(47, 158, 68, 0.13)"
OUT_OF_RANGE = "#c92a2a"
MIN_SPAN_SHARE = 0.2  # the y-axis spans at least 20% of the values' size (70 kg: at least 14 kg)
DAY_MS = 86_400_000


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
Band = tuple[float | None, float | None]


def _component(rec: Record, code: str) -> float | None:
    for comp in rec.components:
        if comp.value is not None and any(c.key == code for c in comp.codes):
            return comp.value.value
    return None


def _value(rec: Record, concept_id: str, display: DisplaySettings | None) -> tuple[float, str] | None:
    """The record's value and unit, weights in the person's unit when one is set."""
    if rec.value is None:
        return None
    unit = rec.value.unit or ""
    target = display.weight_unit if display and concept_id == "weight" else None
    if target and (conv := convert(rec.value.value, unit, target)) is not None:
        return float(conv.text.split()[0]), target
    return rec.value.value, unit


def series_for(store: RecordStore, catalog: Catalog, user_id: str, trend: Trend,
               display: DisplaySettings | None = None) -> tuple[Series, str]:
    """{line name: [(date, value)] oldest first} and the unit, from the user's records."""
    series, unit, _ = _series_and_bands(store, catalog, user_id, trend, display)
    return series, unit


def _series_and_bands(store: RecordStore, catalog: Catalog, user_id: str, trend: Trend,
                      display: DisplaySettings | None) -> tuple[Series, str, dict[str, Band]]:
    out: Series = {}
    bands: dict[str, Band] = {}
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
            elif (got := _value(rec, concept_id, display)) is not None:
                out.setdefault(concept.name, []).append((rec.date, got[0]))
                unit = unit or got[1]
                rr = rec.reference_range
                if rr is not None and (rr.low is not None or rr.high is not None) and got[1] == (rec.value.unit
                                                                                                   if rec.value else ""):
                    bands[concept.name] = (rr.low, rr.high)  # the newest record's range wins (oldest first)
    return out, unit, bands


def y_range(values: list[float], band: Band | None = None) -> tuple[float, float]:
    """The y-axis: the values and the band, a 10% margin, and a span of at least 20% of their size."""
    lo_, hi_ = min(values), max(values)
    if band is not None:
        lo_ = min(lo_, band[0]) if band[0] is not None else lo_
        hi_ = max(hi_, band[1]) if band[1] is not None else hi_
    span = hi_ - lo_
    floor = MIN_SPAN_SHARE * max(abs(lo_), abs(hi_), 1e-9)
    if span < floor:
        mid = (lo_ + hi_) / 2
        lo_, hi_, span = mid - floor / 2, mid + floor / 2, floor
    low = lo_ - 0.1 * span
    return (max(low, 0.0) if lo_ >= 0 else low), hi_ + 0.1 * span


def _empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=f"No {title.lower()} results in your records yet", showarrow=False,
                       x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 15})
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, height=300,
                      margin={"l": 20, "r": 20, "t": 40, "b": 20}, title=title)
    return fig


def trend_figure(title: str, series: Series, unit: str, bands: dict[str, Band] | None = None,
                 daily: bool = False) -> go.Figure:
    """A line chart of the series: range band shaded, out-of-range points red, a friendly note when empty."""
    if not series:
        return _empty(title)
    fig = go.Figure()
    bands = bands or {}
    shown = unit and display_unit(unit)
    for name, points in series.items():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        band = bands.get(name) if len(series) == 1 else None
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=name,
                                 hovertemplate=f"%{{x|%b %d, %Y}}: %{{y}} {shown}<extra>{name}</extra>"))
        if band is not None:
            low, high = band
            y0 = low if low is not None else y_range(ys, band)[0]
            y1 = high if high is not None else y_range(ys, band)[1]
            fig.add_hrect(y0=y0, y1=y1, fillcolor=BAND, line_width=0, layer="below",
                          annotation_text="reference range", annotation_position="top left")
            out = [(x, y) for x, y in points if (low is not None and y < low) or (high is not None and y > high)]
            if out:
                fig.add_trace(go.Scatter(x=[p[0] for p in out], y=[p[1] for p in out], mode="markers",
                                         name="outside the range", marker={"color": OUT_OF_RANGE, "size": 11,
                                                                           "symbol": "circle-open",
                                                                           "line": {"width": 2}}))
    values = [v for pts in series.values() for _, v in pts]
    one_band = next(iter(bands.values())) if len(series) == 1 and bands else None
    fig.update_yaxes(range=list(y_range(values, one_band)), title_text=shown or None)
    if daily:
        days = max(1, (max(p[0] for pts in series.values() for p in pts)
                       - min(p[0] for pts in series.values() for p in pts)).days)
        fig.update_xaxes(tickformat="%b %d", dtick=DAY_MS * max(1, round(days / 8)))
    else:
        fig.update_xaxes(tickformat="%b %Y")
    fig.update_layout(title=f"{title} ({shown})" if shown else title, height=320, hovermode="x unified",
                      margin={"l": 50, "r": 20, "t": 50, "b": 40}, template="plotly_white",
                      legend={"orientation": "h", "y": -0.2})
    return fig


def figures(store: RecordStore, catalog: Catalog, user_id: str, kind: str,
            display: DisplaySettings | None = None) -> list[go.Figure]:
    """The charts of one kind (lab or vital) for a user."""
    out = []
    for t in TRENDS:
        if t.kind == kind:
            series, unit, bands = _series_and_bands(store, catalog, user_id, t, display)
            out.append(trend_figure(t.title, series, unit, bands))
    return out


WEARABLE_TRENDS = (("Steps", "steps", 1.0, "steps/day"), ("Sleep", "sleep", 1 / 60, "hours/night"),
                   ("Resting heart rate", "resting_heart_rate", 1.0, "bpm"))


def wearable_figures(store: RecordStore, user_id: str) -> list[go.Figure]:
    """Daily steps, sleep and resting heart rate from wearable records (days without data are gaps)."""
    table = daily_table(store.query(user_id, categories=[Category.wearable]))
    figs = []
    for title, metric, scale, unit in WEARABLE_TRENDS:
        days = table.get(metric, {})
        points = [(d, round(rec.value.value * scale, 2)) for d, rec in sorted(days.items()) if rec.value is not None]
        figs.append(trend_figure(title, {title: points} if points else {}, unit, daily=True))
    return figs
