"""Unit conversions the questions ask for (own constants, not the product's)."""

from __future__ import annotations

from healthcoach.evals.truth.expected import Reading

LB_PER_KG = 2.20462262185
CM_PER_INCH = 2.54
GLUCOSE_MG_DL_PER_MMOL_L = 18.0156  # glucose molar mass 180.156 g/mol

# target unit -> (factor, offset, fewest decimals an answer must show, display unit)
CONVERSIONS: dict[str, tuple[float, float, int, str]] = {
    "lb": (LB_PER_KG, 0.0, 0, "lb"),
    "ft_in": (1 / CM_PER_INCH, 0.0, 0, "in"),  # total inches; the scorer reads "5 ft 4 in" forms
    "degF": (9 / 5, 32.0, 1, "°F"),
    "mmol/L": (1 / GLUCOSE_MG_DL_PER_MMOL_L, 0.0, 1, "mmol/L"),
}


def convert_value(v: float, target: str) -> float:
    """A value in the concept's unit converted to ``target``."""
    factor, offset, _, _ = CONVERSIONS[target]
    return v * factor + offset


def convert_delta(d: float, target: str) -> float:
    """A difference converted to ``target`` (no offset: a 1 °C change is a 1.8 °F change)."""
    return d * CONVERSIONS[target][0]


def convert_reading(r: Reading, target: str | None) -> Reading:
    """The reading in ``target`` units (unchanged when target is None)."""
    if target is None or not r.numbers:
        return r
    _, _, decimals, unit = CONVERSIONS[target]
    return r.model_copy(update={"numbers": [convert_value(v, target) for v in r.numbers],
                                "decimals": [decimals] * len(r.numbers), "unit": unit})


def feet_inches(total_inches: float) -> str:
    """'5 ft 4 in' (rounded to the inch), for summaries."""
    whole = round(total_inches)
    return f"{whole // 12} ft {whole % 12} in"
