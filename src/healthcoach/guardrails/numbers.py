"""Read the numbers a person types about a body into typed values the triage thresholds check.

Temperatures (°F/°C, unit inferred from the range when missing), the age of the person they are about
("my 6 week old", "a 70-year-old"), SpO2, blood pressure, heart and breathing rate, glucose (mg/dL or
mmol/L; bare numbers read by plausible range) and dose errors as a multiple of the prescribed dose
("20 units instead of 2", "10x", "the whole bottle"). Works on lowercased text (the guard's
normalised text, accents folded), in English plus the Spanish and French words for the same things.
Readings outside a plausible human range are dropped rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from healthcoach.guardrails.doses import DoseError, is_accidental, read_doses

MMOL_TO_MG_DL = 18.016
Measure = Literal["temperature_c", "age_months", "spo2", "systolic", "diastolic", "heart_rate", "resp_rate",
                  "glucose_mg_dl", "dose_multiple", "news2"]


@dataclass(frozen=True)
class Temperature:
    """A body temperature; ``unit`` is what was typed ("?" when inferred from the range)."""

    celsius: float
    unit: Literal["C", "F", "?"]


@dataclass(frozen=True)
class BloodPressure:
    """Systolic over diastolic, mmHg."""

    systolic: int
    diastolic: int


@dataclass(frozen=True)
class Glucose:
    """A glucose reading converted to mg/dL; ``unit`` is how it was read ("meter" for HI/LO)."""

    mg_dl: float
    unit: Literal["mg/dL", "mmol/L", "meter"]
    ambiguous: bool = False  # a bare 20-35: read as mg/dL (a low), though it may be mmol/L (a high)


@dataclass
class Readings:
    """Every value read from one message (a message may hold several of one kind)."""

    temperatures: list[Temperature] = field(default_factory=list)
    ages_months: list[float] = field(default_factory=list)
    spo2: list[int] = field(default_factory=list)
    blood_pressures: list[BloodPressure] = field(default_factory=list)
    heart_rates: list[int] = field(default_factory=list)
    resp_rates: list[int] = field(default_factory=list)
    glucose: list[Glucose] = field(default_factory=list)
    doses: list[DoseError] = field(default_factory=list)
    accidental: bool = False

    @property
    def empty(self) -> bool:
        """True when the message holds no reading at all."""
        return not (self.temperatures or self.ages_months or self.spo2 or self.blood_pressures or self.heart_rates
                    or self.resp_rates or self.glucose or self.doses)

    def values(self, measure: Measure) -> list[float]:
        """All values of one measure, in the unit the thresholds use."""
        table: dict[str, list[float]] = {
            "temperature_c": [t.celsius for t in self.temperatures],
            "age_months": list(self.ages_months),
            "spo2": [float(v) for v in self.spo2],
            "systolic": [float(b.systolic) for b in self.blood_pressures],
            "diastolic": [float(b.diastolic) for b in self.blood_pressures],
            "heart_rate": [float(v) for v in self.heart_rates],
            "resp_rate": [float(v) for v in self.resp_rates],
            "glucose_mg_dl": [g.mg_dl for g in self.glucose],
            "dose_multiple": [d.multiple for d in self.doses],
        }
        return table.get(measure, [])


_NUM = r"(\d{1,4}(?:\.\d+)?)(?![\d.])"
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d{1,2}(?!\d))")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NOT_A_TEMP_UNIT = r"(?!\s*(?:%|mg|mcg|ml|kg|lbs?|bpm|units?|years?|yrs?|months?|weeks?|days?|hours?|hrs?|mins?|minutes?|times|x\b|/|over\b|mmhg|mmol|percent))"

_TEMP_UNIT = re.compile(_NUM + r"\s*(?:°|º|deg(?:rees?)?|degres|grados)?\s*(f|c|fahrenheit|celsius|centigrade)\b")
_TEMP_WORD = re.compile(
    r"\b(?:temp(?:erature)?s?|fever(?:s|ish)?|febrile|thermometer|pyrexia|spik(?:ed|ing)|running|reads?|"
    r"fiebre|temperatura|calentura|fievre|temperature)\b[^.;\d]{0,25}?" + _NUM + _NOT_A_TEMP_UNIT)
_TEMP_BEFORE = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d)?)\s*(?:°|º|degres?|grados?)?\s*(?:de )?(?:fievre|fiebre|"
                          r"temperature|temperatura|calentura)\b")
_FEVER_CONTEXT = re.compile(r"\b(?:fever|temp|hot|burning up|febrile|feverish|fiebre|fievre|thermometer)")
# "my 4 month old is 39.5": a decimal right after the person, read by range (a whole number there is an age).
_IS_TEMP = re.compile(r"\b(?:old|baby|infant|newborn|he|she|he's|she's|temp)(?: is| was| has been| at| now)? "
                      r"(\d{2,3}\.\d)(?!\s*(?:lbs?|kg|pounds|kilos|cm|inches|in\b|%|years?|months?|weeks?))")
_BARE_TEMP = re.compile(r"(?<![\d./])(\d{2,3}\.\d)(?![\d./])" + _NOT_A_TEMP_UNIT)

_AGE_UNIT = {"day": 1 / 30.4, "dia": 1 / 30.4, "jour": 1 / 30.4, "week": 12 / 52.18, "wk": 12 / 52.18,
             "semana": 12 / 52.18, "semaine": 12 / 52.18, "month": 1.0, "mo": 1.0, "mth": 1.0, "mes": 1.0,
             "mois": 1.0, "year": 12.0, "yr": 12.0, "y": 12.0, "ano": 12.0, "an": 12.0}
_AGE_OLD = re.compile(r"\b(\d{1,3}(?:\.\d)?)[\s-]*(day|week|wk|month|mth|mo|year|yr)s?[\s-]*old\b")
_AGE_YO = re.compile(r"\b(\d{1,3})[\s-]*(?:yo|y/o|y\.o\.|yrs?|years?|year-old)\b(?![\s-]*(?:ago|history|of (?:smok|diab)))")
_AGE_AGED = re.compile(r"\b(?:aged?|age of)\s*(\d{1,3})\b")
_AGE_IS = re.compile(r"\b(?:baby|son|daughter|infant|newborn|child|kid|he|she|he's|she's|who)(?:'s| is| was)?\s+"
                     r"(?:only |just )?(\d{1,2})\s*(day|week|wk|month|mo)s?\b(?! ago)")
_AGE_ROMANCE = re.compile(r"\b(?:de|a|tiene|tient)\s+(\d{1,3})\s*(dia|semana|mes|ano|jour|semaine|mois|an)(?:s|es)?\b")
_NEWBORN = re.compile(r"\b(?:newborn|new born|neonate|recien nacido|nouveau-ne|nouveau ne)\b")

_SPO2 = re.compile(r"\b(?:sats?|saturations?|saturating|spo2|sp02|o2 sat\w*|o2|oxygen(?: saturation| sat\w*| levels?"
                   r"| reading)?|pulse ?ox\w*|oximeter|pulsioximetro|saturacion|saturation)\b[^.;\d]{0,25}?"
                   r"(\d{2,3})(?![\d.])(?!\s*(?:l\b|liters?|litres?|lpm|l/min|mins?|minutes?|bpm|/))")
_SPO2_PCT = re.compile(r"\b(\d{2,3})\s*(?:%|percent)\s*(?:on room air|on ra|ra\b|sat\w*|o2|oxygen|spo2)")
_BP = re.compile(r"(?<![\d/.])(\d{1,3})\s*(?:/|over|sobre|sur)\s*(\d{2,3})(?![\d/])")
_BP_CONTEXT = re.compile(r"\b(?:blood pressure|pressure|bp|mmhg|mm hg|tension|presion|pression|systolic|ta)\b")
_HR = re.compile(r"\b(?:heart ?rate|hr|pulse(?! ?ox)|heart (?:is |was )?(?:racing|beating|pounding|going|running)"
                 r"(?: at)?|tachycardic|bradycardic|pouls|frecuencia cardiaca|frequence cardiaque)\b[^.;\d]{0,20}?"
                 r"(\d{2,3})(?![\d.])(?!\s*(?:%|/|mg|years?|yrs?))")
_HR_BPM = re.compile(r"\b(\d{2,3})\s*(?:bpm|beats? (?:per|a|/) ?min\w*|lpm|latidos)\b")
_RR = re.compile(r"\b(?:respiratory rate|resp(?:iratory)? rate|rr|breathing rate|respirations?|breaths)\b"
                 r"[^.;\d]{0,15}?(\d{1,2})(?![\d.])(?!\s*(?:%|/|mg|years?))")
_RR_MIN = re.compile(r"\b(\d{1,2})\s*(?:breaths?|respirations?)\s*(?:per|a|/)\s*min\w*")
_GLUCOSE = re.compile(
    r"\b(?:blood sugars?|glucose|glycemia|bgl?|cbg|sugars?|meter|glucometer|cgm|libre|dexcom|glucemia|glycemie|"
    r"azucar|sucre)\b[^.;\d]{0,25}?(\d{1,4}(?:\.\d+)?)(?![\d.])\s*(mg/?dl|mg per dl|mmol(?:/l| per l)?|g/l|g par litre|gr?/l)?(?!\s*(?:%|years?|yrs?|"
    r"minutes?|mins?|hours?|hrs?|days?|weeks?|months?|units?|u\b|grams?|g\b|carbs?|times|am|pm|lbs?|kg))")
_GLUCOSE_HILO = re.compile(r"\b(?:meter|glucometer|cgm|glucose|blood sugar|sugar|libre|dexcom)\b[^.;]{0,20}?"
                           r"(?:\b(?:reads?|says|shows?|showing|is|at|just)\s+)?[\"']?\b(hi|lo)\b(?!-)")

def _fold(text: str) -> str:
    """Lowercase, accents removed ("fièvre" -> "fievre"), decimal commas as points, no thousands commas."""
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return _THOUSANDS.sub("", _DECIMAL_COMMA.sub(".", text.lower()))


def _temp(value: float, unit: str) -> Temperature | None:
    if unit == "C" and 30.0 <= value <= 45.0:
        return Temperature(round(value, 2), "C")
    if unit == "F" and 86.0 <= value <= 113.0:
        return Temperature(round((value - 32.0) * 5.0 / 9.0, 2), "F")
    if unit == "?":  # read by range: 34-43.5 is Celsius, 93-113 is Fahrenheit; anything else is not a temperature
        if 34.0 <= value <= 43.5:
            return Temperature(round(value, 2), "?")
        if 93.0 <= value <= 113.0:
            return Temperature(round((value - 32.0) * 5.0 / 9.0, 2), "?")
    return None


def read_temperatures(text: str) -> list[Temperature]:
    """Temperatures with a unit ("39,5°C", "102 F"), after a temperature word ("a temp of 104",
    "fever to 102.2"), or a bare decimal in a febrile range when the message talks about fever."""
    out: list[Temperature] = []
    spans: list[tuple[int, int]] = []
    for m in _TEMP_UNIT.finditer(text):
        t = _temp(float(m.group(1)), "F" if m.group(2).startswith("f") else "C")
        if t:
            out.append(t)
            spans.append(m.span(1))
    for m in _TEMP_WORD.finditer(text):
        if any(s <= m.start(1) < e for s, e in spans):
            continue
        t = _temp(float(m.group(1)), "?")
        if t:
            out.append(t)
            spans.append(m.span(1))
    for m in [*_TEMP_BEFORE.finditer(text), *_IS_TEMP.finditer(text)]:
        if not any(s <= m.start(1) < e for s, e in spans) and (t := _temp(float(m.group(1)), "?")):
            out.append(t)
            spans.append(m.span(1))
    if _FEVER_CONTEXT.search(text):
        for m in _BARE_TEMP.finditer(text):
            if not any(s <= m.start(1) < e for s, e in spans) and (t := _temp(float(m.group(1)), "?")):
                out.append(t)
    return out


def read_ages(text: str) -> list[float]:
    """Ages in months of the people a message is about ("my 6 week old", "a 70-year-old", "aged 3")."""
    ages: list[float] = []
    for m in _AGE_OLD.finditer(text):
        ages.append(float(m.group(1)) * _AGE_UNIT[m.group(2)])
    for m in _AGE_IS.finditer(text):
        ages.append(float(m.group(1)) * _AGE_UNIT[m.group(2)])
    for m in _AGE_ROMANCE.finditer(text):
        ages.append(float(m.group(1)) * _AGE_UNIT[m.group(2)])
    if not ages:
        ages += [float(m.group(1)) * 12.0 for rx in (_AGE_YO, _AGE_AGED) for m in rx.finditer(text)]
    if _NEWBORN.search(text):
        ages.append(0.5)
    return [round(a, 2) for a in ages if 0.0 <= a <= 130 * 12]


def read_spo2(text: str) -> list[int]:
    """Oxygen saturation percentages ("sats 84%", "oxygen 86", "O2 sat of 91 percent")."""
    vals = [int(m.group(1)) for rx in (_SPO2, _SPO2_PCT) for m in rx.finditer(text)]
    return sorted({v for v in vals if 50 <= v <= 100})


def read_blood_pressures(text: str) -> list[BloodPressure]:
    """Blood pressures ("220/130", "80 over 50"); a bare a/b counts only when it is plausible as one."""
    context = bool(_BP_CONTEXT.search(text))
    out = []
    for m in _BP.finditer(text):
        sys_, dia = int(m.group(1)), int(m.group(2))
        if context and 7 <= sys_ <= 30 and 4 <= dia <= 20 and sys_ > dia:
            sys_, dia = sys_ * 10, dia * 10  # "tension 17/11": cmHg, as written in France, Spain and Latin America
        if not (50 <= sys_ <= 300 and 20 <= dia <= 200 and sys_ > dia):
            continue
        if context or sys_ >= 70:
            out.append(BloodPressure(sys_, dia))
    return out


def read_heart_rates(text: str) -> list[int]:
    """Heart rates ("HR 112", "pulse of 38", "heart is racing at 190", "150 bpm")."""
    vals = [int(m.group(1)) for rx in (_HR, _HR_BPM) for m in rx.finditer(text)]
    return sorted({v for v in vals if 20 <= v <= 300})


def read_resp_rates(text: str) -> list[int]:
    """Breathing rates ("RR 28", "32 breaths per minute")."""
    vals = [int(m.group(1)) for rx in (_RR, _RR_MIN) for m in rx.finditer(text)]
    return sorted({v for v in vals if 4 <= v <= 80})


def read_glucose(text: str) -> list[Glucose]:
    """Glucose in mg/dL: explicit units converted; a bare number read by range (decimal or < 20 is
    mmol/L, 36+ is mg/dL, 20-35 is read as mg/dL and marked ambiguous); meter HI/LO."""
    out: list[Glucose] = []
    for m in _GLUCOSE.finditer(text):
        raw, unit = m.group(1), (m.group(2) or "")
        value = float(raw)
        if unit.startswith("g"):  # France and Belgium write glucose in g/L: 0,40 g/L is 40 mg/dL
            if 0.1 <= value <= 10:
                out.append(Glucose(round(value * 100, 1), "mg/dL"))
            continue
        if unit.startswith("mmol") or (not unit and ("." in raw or value < 20)):
            if 0.5 <= value <= 80:
                out.append(Glucose(round(value * MMOL_TO_MG_DL, 1), "mmol/L"))
        elif 10 <= value <= 2000:
            out.append(Glucose(value, "mg/dL", ambiguous=not unit and value <= 35))
    for m in _GLUCOSE_HILO.finditer(text):
        # Meters show HI above about 600 mg/dL and LO below about 20 mg/dL.
        out.append(Glucose(600.0 if m.group(1) == "hi" else 20.0, "meter"))
    return out


def read_numbers(text: str) -> Readings:
    """Every typed value in a (lowercased) message."""
    t = _fold(text)
    if not any(ch.isdigit() for ch in t):  # only the word-based readings can be present
        return Readings(ages_months=read_ages(t), glucose=read_glucose(t), doses=read_doses(t),
                        accidental=is_accidental(t))
    return Readings(
        temperatures=read_temperatures(t), ages_months=read_ages(t), spo2=read_spo2(t),
        blood_pressures=read_blood_pressures(t), heart_rates=read_heart_rates(t), resp_rates=read_resp_rates(t),
        glucose=read_glucose(t), doses=read_doses(t), accidental=is_accidental(t),
    )


def news2(r: Readings, confused: bool) -> int | None:
    """The National Early Warning Score 2 (Royal College of Physicians) from the vitals a message gives,
    or None when fewer than three of them are given (too little to score a patient)."""
    parts: list[int] = []
    if r.resp_rates:
        v = max(r.resp_rates, key=lambda x: abs(x - 16))
        parts.append(3 if v <= 8 or v >= 25 else 2 if v >= 21 else 1 if v <= 11 else 0)
    if r.spo2:
        v = min(r.spo2)
        parts.append(3 if v <= 91 else 2 if v <= 93 else 1 if v <= 95 else 0)
    if r.blood_pressures:
        v = min(b.systolic for b in r.blood_pressures)
        parts.append(3 if v <= 90 or v >= 220 else 2 if v <= 100 else 1 if v <= 110 else 0)
    if r.heart_rates:
        v = max(r.heart_rates, key=lambda x: abs(x - 70))
        parts.append(3 if v <= 40 or v >= 131 else 2 if v >= 111 else 1 if v <= 50 or v >= 91 else 0)
    if r.temperatures:
        c = max((t.celsius for t in r.temperatures), key=lambda x: abs(x - 37.0))
        parts.append(3 if c <= 35.0 else 2 if c >= 39.1 else 1 if c <= 36.0 or c >= 38.1 else 0)
    if len(parts) < 3:
        return None
    return sum(parts) + (3 if confused else 0)
