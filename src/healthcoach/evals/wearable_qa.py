"""Wearable QA: questions whose truth is computed independently from the raw files (the Takeout sample's
truth.json, the generator's own truth), answered through Coach.ask and scored on the exact number and
the days-with-data statement."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from healthcoach.coach import Coach
from healthcoach.compose.citations import fmt_date
from healthcoach.records.models import format_number


@dataclass(frozen=True)
class WearCase:
    user_id: str
    question: str
    expected: str  # the number as the coach should write it ('8267 steps', '7 h 13 min', '61.5 bpm')
    coverage: str | None  # '5 of 7' for window questions


def normalise_truth(raw: dict[str, Any]) -> dict[date, dict[str, float]]:
    """Per day: steps, sleep_min, rhr, hr_max from either truth format; absent values are left out."""
    out: dict[date, dict[str, float]] = {}
    for iso, d in raw.get("days", {}).items():
        day: dict[str, float] = {}
        steps = d.get("steps_total", d.get("steps"))
        if steps:
            day["steps"] = float(steps)
        rhr = d.get("resting_heart_rate_bpm", d.get("resting_heart_rate"))
        if rhr:
            day["rhr"] = float(rhr)
        hr_max = d.get("heart_rate_max_bpm", (d.get("heart_rate") or {}).get("max"))
        if hr_max:
            day["hr_max"] = float(hr_max)
        sleep = d.get("sleep_ending_this_morning") or d.get("sleep") or {}
        if sleep.get("minutesAsleep"):
            day["sleep_min"] = float(sleep["minutesAsleep"])
        if day:
            out[date.fromisoformat(iso)] = day
    return out


def _sleep(v: float) -> str:
    h, m = divmod(int(round(v)), 60)
    return f"{h} h {m} min"


def build_wear_cases(user_id: str, truth: dict[date, dict[str, float]], max_days: int = 6) -> list[WearCase]:
    """Single-day questions for the first days, and one week-window question per metric."""
    cases: list[WearCase] = []
    days = sorted(truth)
    for d in days[:max_days]:
        t, when = truth[d], fmt_date(d)
        if "steps" in t:
            cases.append(WearCase(user_id, f"How many steps did I take on {when}?", f"{int(round(t['steps']))} steps", None))
        if "sleep_min" in t:
            cases.append(WearCase(user_id, f"How did I sleep on {when}?", _sleep(t["sleep_min"]), None))
        if "rhr" in t:
            cases.append(WearCase(user_id, f"What was my resting heart rate on {when}?",
                                  f"{format_number(round(t['rhr'], 1))} bpm", None))
        if "hr_max" in t:
            cases.append(WearCase(user_id, f"What was my highest heart rate on {when}?",
                                  f"{format_number(t['hr_max'])} bpm", None))
    if days:
        start = days[0]
        end = start + timedelta(days=6)
        window = [truth[d] for d in days if start <= d <= end]
        span = f"from {fmt_date(start)} to {fmt_date(end)}"
        steps = [w["steps"] for w in window if "steps" in w]
        if steps:
            cases.append(WearCase(user_id, f"How many steps did I average {span}?",
                                  f"{int(round(sum(steps) / len(steps)))} steps", f"{len(steps)} of 7"))
        sleep = [w["sleep_min"] for w in window if "sleep_min" in w]
        if sleep:
            cases.append(WearCase(user_id, f"How did I sleep {span}?", _sleep(sum(sleep) / len(sleep)),
                                  f"{len(sleep)} of 7"))
    return cases


def run_wear_cases(coach: Coach, cases: list[WearCase]) -> dict[str, Any]:
    """Accuracy: the expected number (and coverage) in the answer's first paragraph."""
    misses, hits = [], 0
    for c in cases:
        reply = coach.ask(c.user_id, c.question)
        head = reply.text.split("\n\n")[0]
        ok = c.expected in head and (c.coverage is None or c.coverage in head) and bool(reply.citations)
        hits += ok
        if not ok:
            misses.append({"question": c.question, "expected": c.expected, "coverage": c.coverage,
                           "answer": reply.text[:300]})
    return {"n": len(cases), "exact": round(hits / max(1, len(cases)), 4), "misses": misses}


def load_takeout_truth(takeout_dir: Path) -> dict[date, dict[str, float]]:
    """truth.json beside the shared Takeout sample."""
    return normalise_truth(json.loads((takeout_dir / "truth.json").read_text()))
