"""The output guard's meaning check: does any sentence the coach says in its own words tell the person to
start, stop or change a treatment or a dose, whatever numbers or names it uses?

The regex output guard (output.py) knows phrasings; an obeying model paraphrases ("use twice your usual
amount of insulin", "leave out the metformin"). So every sentence of a reply, LLM or template, is read
for meaning:
- record-instruction patterns (record_text.yaml) must not appear in the coach's own words: such text may
  only be shown as a marked quote of the record;
- a sentence shaped like advice (an imperative, "you should/can ...", "it's fine to ...", "your new dose
  ...") is run through the input guard's own treatment/dose detection (patterns + classifier, through its
  public check_input); any verdict that would block the sentence as a question blocks it as an answer.
Excluded: marked quotes of record text ('the record's note says: "..."', 'the prescription says: "..."',
only when the quoted words are the record's own), vetted texts (policy redirects, catalog and wellness
text the answer quotes), and referrals to a clinician that lead the sentence ("Ask your prescriber ...").
An error inside the check fails closed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from healthcoach.guardrails.input import Verdict
from healthcoach.guardrails.output import OutputCheck
from healthcoach.guardrails.record_text import RecordTextPolicy

log = logging.getLogger(__name__)

# Attribution + double-quoted words: how the coach (or a model) quotes a record without vouching for it.
MARKED_QUOTE = re.compile(
    r"\b(?:(?:the|your|this|that) )?(?:record|note|prescription|instructions?|label|sig|document)(?:['’]s)?(?: [\w']+){0,3}"
    r" (?:says?|reads?|states?)\s*:?\s*\"([^\"\n]{0,600})\"", re.I)
_CITATION = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+|;\s+")
# Clauses that can carry an instruction of their own ("..., so stop taking it").
_CLAUSES = re.compile(r",\s+(?=(?:so|then|and then|and|but)\s)", re.I)
_LEAD = re.compile(r"^(?:[-*•>]+|\d+[.)])\s*|^\*\*|^#+\s*")
_SOFT = frozenset({
    "please", "now", "just", "simply", "then", "so", "and", "also", "tonight", "today", "instead", "ok",
    "okay", "first", "next", "definitely", "really", "but", "from", "on", "starting", "going", "forward",
})
_VERBS = frozenset({
    "take", "use", "stop", "skip", "double", "triple", "halve", "increase", "decrease", "reduce",
    "raise", "lower", "cut", "drop", "leave", "omit", "quit", "discontinue", "switch", "swap",
    "replace", "start", "begin", "add", "inject", "apply", "give", "hold", "pause", "avoid", "keep",
    "continue", "try", "go", "come", "wean", "taper", "split", "crush", "chew", "swallow", "administer",
    "up", "bump", "resume", "restart", "remove", "change", "adjust", "titrate", "substitute", "cease",
    "don't", "dont", "do", "never", "forget", "ignore", "disregard", "let", "make", "consider", "stay",
    "ditch", "max", "boost", "combine", "mix", "wait", "delay", "ease",
})
_ADVICE = re.compile("|".join([
    r"\byou(?:'d| would| will)? (?:should|can|could|may|might|must|need to|needs to|have to|ought to"
    r"|had better|'d better|want to|will want to)\b",
    r"\byou(?:'re| are) (?:fine|ok|okay|safe|good|free|able|allowed|clear|cleared) to\b",
    r"\bit(?:'s| is| would be| will be) (?:fine|ok|okay|safe|best|better|time|alright|all right|advisable"
    r"|recommended|wise|good|reasonable|sensible) to\b",
    r"\byou (?:no longer|don't|do not) need\b",
    r"\b(?:there's |there is )?no (?:need|reason) to\b",
    r"\byour (?:new|correct|updated|adjusted|proper|right|real|actual|recommended|ideal) "
    r"(?:dose|dosage|amount|regimen|schedule)\b",
    r"\bgo ahead\b|\bfeel free\b|\b(?:i|we) (?:recommend|suggest|advise|prescribe)\b",
    r"\b(?:is|are) (?:recommended|advised)\b",
]), re.I)
_CLINICIAN = (r"(?:prescriber|doctor|pharmacist|clinician|care team|provider|nurse|gp|physician|dietitian"
              r"|specialist)")
_REFERRAL = re.compile(
    rf"^(?:please )?(?:ask|talk (?:to|with)|check with|speak (?:to|with)|consult|discuss(?: \w+)? with"
    rf"|contact|call|see|bring)\b.*\b{_CLINICIAN}|^(?:please )?(?:don'?t|do not|never)\b.*\b(?:without|before"
    rf"|unless|until|except)\b.*\b{_CLINICIAN}", re.I)
BLOCKS = frozenset({"treatment", "emergency", "self_harm", "other_harm"})  # diagnosis: output.py's own rules


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace('"', "'").replace("’", "'")).strip().lower()


def own_sentences(text: str, quotable: str) -> list[str]:
    """The reply's sentences in the coach's own words: marked quotes of record text and citation markers
    removed. A 'quote' whose words are not the record's is kept (it is the coach speaking)."""
    source = _norm(quotable)

    def unquote(m: re.Match[str]) -> str:
        inner = _norm(m.group(1)).rstrip("…").strip()
        return " " if inner and inner in source else m.group(0)

    body = _CITATION.sub(" ", MARKED_QUOTE.sub(unquote, text))
    out = []
    for part in _SENTENCES.split(body):
        s = _LEAD.sub("", part.strip()).replace("**", "").strip(" -*:,.;")
        if re.search(r"[A-Za-z]{2}", s):
            out.append(s)
    return out


def clauses(sentence: str) -> list[str]:
    """A sentence's clauses that may stand as an instruction alone ("..., so stop taking it")."""
    return [c.strip(" ,") for c in _CLAUSES.split(sentence) if c.strip(" ,")]


def advice_shaped(sentence: str) -> bool:
    """An imperative ("Use twice ...", "Please stop ...") or advice to the reader ("you should ...")."""
    words = [w.strip(",.!?:;()'\"").lower() for w in sentence.split()]
    words = [w for w in words if w]
    while words and words[0] in _SOFT:
        words = words[1:]
    return bool(words and words[0] in _VERBS) or bool(_ADVICE.search(sentence))


class MeaningCheck:
    """Reads every own-words sentence of a reply for treatment and dose instructions."""

    def __init__(self, check_input: Callable[[str], Verdict], record_text: RecordTextPolicy,
                 vetted: tuple[str, ...] = ()) -> None:
        self.check_input, self.record_text = check_input, record_text
        self.vetted = _norm(" \n ".join(vetted))

    def check(self, text: str, quotable: str = "", vetted: str = "") -> OutputCheck:
        """Violations in text; quotable is the records' own words, vetted any fixed text the reply quotes."""
        try:
            return self._check(text, quotable, vetted)
        except Exception:  # fail closed: an unchecked reply is never shown
            log.exception("meaning check failed; rejecting reply")
            return OutputCheck(ok=False, violations=["guard_error"])

    def _check(self, text: str, quotable: str, vetted: str) -> OutputCheck:
        known = f"{self.vetted} \n {_norm(vetted)}"
        violations: list[str] = []
        for sentence in own_sentences(text, quotable):
            if len(sentence) >= 12 and _norm(sentence) in known:
                continue  # policy, catalog or wellness text, checked when it was written
            names = self.record_text.matches(sentence)
            if names:
                violations.append(f"record_instruction: {names[0]}")
                continue
            for clause in clauses(sentence):
                if not advice_shaped(clause) or _REFERRAL.search(clause):
                    continue
                verdict = self.check_input(clause)
                if verdict.blocked and verdict.category in BLOCKS:
                    violations.append(f"treatment_meaning: {verdict.category} ({verdict.reason})")
                    break
        return OutputCheck(ok=not violations, violations=violations)
