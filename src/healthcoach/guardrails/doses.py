"""Dose errors in a message: a dose taken as a multiple of the prescribed one.

"20 units instead of 2" (10x), "10x my dose", "the whole bottle" (infinite), "double dosed twice" (3x),
"an extra dose" (2x), "took 30 tylenol" (30). A message that only asks about a dose ("should I take 2
instead of 1?") reports none: that is a treatment question, not a medication error. Works on the
guard's lowercased, accent-folded text, with the Spanish and French words for the same things.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DoseError:
    """A dose taken as a multiple of the prescribed one (math.inf: "the whole bottle")."""

    multiple: float
    basis: Literal["ratio", "times", "whole", "double", "count", "extra"]


_UNIT_WORDS = (r"(?:units?|you|u|iu|mg|mcg|ml|cc|g|grams?|pills?|tablets?|tabs?|capsules?|caps?|puffs?|drops?|doses?|sprays?|"
               r"unidades|unites|comprimidos|pastillas|pildoras|comprimes|pilules|gotas|gouttes)")
_RATIO = re.compile(r"(?<![\d.])(\d{1,5}(?:\.\d+)?)\s*" + _UNIT_WORDS + r"?\s+(?:(?:of|de|d')\s?(?:[\w']+ ){0,2})?"
                    r"(?:instead of|rather than|not|when (?:i|he|she|they) (?:should|was supposed to) (?:take|have|get|give)|"
                    r"en (?:vez|lugar) de|au lieu de)\s+(?:the |my |his |her |their )?(?:prescribed |usual |normal )?"
                    r"(\d{1,5}(?:\.\d+)?)(?![\d.])")
_TIMES = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d)?)\s*(?:x|times|fois|veces)\s+(?:the |my |his |her |their |what |la |el |sa |de )?"
                    r"(?:usual |normal |prescribed |recommended |correct |right |ordered |intended |regular |daily |max(?:imum)? |dose normal )?"
                    r"(?:dose|dosis|amount|dosage)")
# "10 times too much", "5x more than the doctor said"
_TOO_MUCH = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d)?)\s*(?:x|times|fois|veces)\s+(?:too much|more|over|trop|de mas|mas de lo)")
# "daily instead of weekly" (methotrexate): the dose taken seven times as often
_FREQUENCY = re.compile(r"\b(?:daily|every day|each day|once a day)\s+(?:instead of|rather than|not)\s+(?:once )?(?:a |per |every )?"
                        r"(?:weekly|week)\b|\btous les jours au lieu d'une fois par semaine\b|\btodos los dias en vez de (?:una vez )?"
                        r"(?:a la|por) semana\b")
# "the doctor said 0.5 ml and I gave 5 ml": prescribed amount, then the amount given, in the same unit
_SAID_GAVE = re.compile(r"\b(?:said|say|says|prescribed|supposed to (?:be|give|take)|should (?:be|give|take)|label says)\s+"
                        r"(\d{1,4}(?:\.\d+)?)\s*(ml|mg|mcg|units?|drops?|tablets?)\b[^.;]{0,40}?\b(?:gave|give|given|took|take|"
                        r"injected|put)\s+(?:him |her |them |it )?(\d{1,4}(?:\.\d+)?)\s*\2")
_TOOK_TIMES = re.compile(r"\b(?:took|taken|gave|given|injected|swallowed|had|dosed|received|administered|got)\b[^.;]{0,30}?(?<![\d.])"
                         r"(\d{1,3})\s*(?:x|times)\b(?!\s*(?:a|per|each|every|daily|/)\s*(?:day|week|night|morning)?)")
_WHOLE = re.compile(r"\b(?:took|taken|take|taking|swallowed|ate|drank|downed|popped|had|gave (?:him|her|them)|given|"
                    r"injected|used|tomo|tome|a pris|ai pris|avale)\b[^.;]{0,25}?(?:(?:the |a |an )?(?:whole|entire|full|complete)\s+(?:\w+\s+){0,2}(?:bottle|pack|packet|box|"
                    r"blister|strip|tub|vial|pen|sleeve|prescription|supply)\b|\ball (?:of )?(?:my|his|her|their|the|"
                    r"mom's|dad's)\s+(?:\w+\s+){0,2}(?:pills|tablets|capsules|medications?|medicines?|insulin|"
                    r"prescriptions?)\b|toute la (?:boite|plaquette|bouteille)\b|toda la (?:caja|botella|tableta)\b)")
_DOUBLE = re.compile(r"\b(?:double|doubled|two|2|extra|second|another)[\s-]*(?:dose|dosed|doses|shot|injection|"
                     r"dosage)\b|\bdouble[\s-]*dos(?:ed|ing)\b|\b(?:took|taken|gave|given|had|injected)\b[^.;]{0,40}?"
                     r"\b(?:twice|two times|again)\b|\bdosed (?:him|her|them|myself)? ?twice\b|\bdoble dosis\b|"
                     r"\bdouble dose\b|\bdose double\b")
_TRIPLE = re.compile(r"\b(?:triple[\s-]*(?:dose|dosed|dosing)?|three (?:doses|times the dose)|double[\s-]*dos\w*"
                     r" (?:twice|two times|again))\b")
_COUNT = re.compile(r"\b(?:took|taken|swallowed|ate|had|downed|popped|gave)\b(?: (?:like|about|around|over|maybe|"
                    r"almost|nearly))? (\d{1,3})\s+(?:\w+\s+){0,2}?(?:pills|tablets|tabs|capsules|caps|gummies)\b")
# "took 30 tylenol": ten or more of something that is not a unit of time, weight or volume.
_COUNT_ANY = re.compile(r"\b(?:took|taken|swallowed|downed|popped)\b(?: (?:like|about|around|over|maybe|almost|nearly))?"
                        r" (\d{2,3})\s+(?!(?:mg|mcg|ml|g|grams?|minutes?|mins?|hours?|hrs?|days?|years?|units?|weeks?|"
                        r"months?|times|am|pm|kg|lbs?|percent|steps|seconds?|secs?|miles?|km)\b)[a-z]")
# "should I take 2 instead of 1?" asks about a dose; it reports none taken (the treatment redirect answers it).
_ASKING = re.compile(r"\b(?:should|can|could|may|shall|would) (?:i|we|he|she|you|they) (?:\w+ )?(?:take|give|use|double|"
                     r"inject|increase|go up)\b|\b(?:is it|would it be|it is) (?:ok|okay|safe|fine|bad) to\b|"
                     r"\b(?:want|going|planning) to (?:take|give|double|increase)\b|\bwhat (?:if|happens if) (?:i|he|she|you) "
                     r"(?:take|took|give|double)\b")
# "took all my pills this morning as prescribed" is a routine, not a whole bottle.
_ROUTINE = re.compile(r"\b(?:as prescribed|as directed|as usual|like (?:i'm|i am) supposed to|for the day|refill|"
                      r"pill organi[sz]er|vitamins?)\b")
_ACCIDENTAL = re.compile(r"\b(?:accident\w*|by mistake|mistaken\w*|wrong (?:dose|medication|medicine|pills?|"
                         r"insulin)|mixed up|forgot (?:i|he|she|they) (?:had )?already|par erreur|por error|"
                         r"sin querer|sans faire expres)\b")


def is_accidental(text: str) -> bool:
    """Whether the message says a dose was taken or given by mistake."""
    return bool(_ACCIDENTAL.search(text))


def read_doses(text: str) -> list[DoseError]:
    """Doses taken as a multiple of the prescribed one (none when the message only asks about a dose)."""
    out: list[DoseError] = []
    if _ASKING.search(text):
        return out
    for m in _RATIO.finditer(text):
        taken, meant = float(m.group(1)), float(m.group(2))
        if meant > 0 and taken > meant:
            out.append(DoseError(round(taken / meant, 2), "ratio"))
    for m in _SAID_GAVE.finditer(text):
        meant, taken = float(m.group(1)), float(m.group(3))
        if meant > 0 and taken > meant:
            out.append(DoseError(round(taken / meant, 2), "ratio"))
    if _FREQUENCY.search(text):
        out.append(DoseError(7.0, "times"))
    for rx in (_TIMES, _TOOK_TIMES, _TOO_MUCH):
        for m in rx.finditer(text):
            if float(m.group(1)) >= 2:
                out.append(DoseError(float(m.group(1)), "times"))
    if _WHOLE.search(text) and not _ROUTINE.search(text):
        out.append(DoseError(math.inf, "whole"))
    if _TRIPLE.search(text):
        out.append(DoseError(3.0, "double"))
    elif _DOUBLE.search(text):
        out.append(DoseError(2.0, "double"))
    for m in _COUNT.finditer(text):
        if int(m.group(1)) >= 5:
            out.append(DoseError(float(m.group(1)), "count"))
    for m in _COUNT_ANY.finditer(text):
        if int(m.group(1)) >= 10:
            out.append(DoseError(float(m.group(1)), "count"))
    return list(dict.fromkeys(out))
