"""A literal prefilter for the triage regexes: skip a regex when none of the strings it needs is in the text.

For each compiled pattern, ``required_literals`` finds a set of strings such that every match must
contain one of them (read from the parsed regex: literal runs, alternations whose every branch has
one, repeats of at least once). A message is then scanned once for all those strings (each looked up
only when its first three characters occur in the text), and a regex runs only if one of its strings
is present. Regexes with no usable literal always run. This keeps the triage layer at about a
millisecond on long messages instead of tens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

MIN_LEN = 3
_REPEATS = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}


def _best(cands: list[frozenset[str]]) -> frozenset[str] | None:
    if not cands:
        return None
    return max(cands, key=lambda s: (min(len(x) for x in s), -len(s)))


def _required(seq: Iterable[tuple[object, object]]) -> frozenset[str] | None:
    cands: list[frozenset[str]] = []
    run: list[str] = []

    def close() -> None:
        if len(run) >= MIN_LEN:
            cands.append(frozenset({"".join(run)}))
        run.clear()

    for op, av in seq:
        if op is c.LITERAL:
            run.append(chr(av))  # type: ignore[arg-type]
            continue
        close()
        sub: frozenset[str] | None = None
        if op is c.SUBPATTERN:
            sub = _required(av[-1])  # type: ignore[index]
        elif op is c.BRANCH:
            parts = [_required(b) for b in av[1]]  # type: ignore[index]
            if all(p is not None for p in parts):
                sub = frozenset().union(*parts)  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:  # type: ignore[index]
            sub = _required(av[2])  # type: ignore[index]
        if sub:
            cands.append(sub)
    close()
    return _best(cands)


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of pattern contains, or None when no such set was found."""
    try:
        return _required(_parser.parse(pattern.pattern, pattern.flags))
    except Exception:  # an unusual construct: no prefilter, the regex just always runs
        return None


class LiteralIndex:
    """All literals of many patterns, scanned once per text."""

    def __init__(self, literal_sets: Iterable[frozenset[str] | None]) -> None:
        by_prefix: dict[str, set[str]] = {}
        for s in literal_sets:
            for lit in s or ():
                by_prefix.setdefault(lit[:MIN_LEN], set()).add(lit)
        self._by_prefix = {k: tuple(v) for k, v in by_prefix.items()}

    def present(self, text: str) -> frozenset[str]:
        """The indexed literals that occur in text."""
        grams = {text[i:i + MIN_LEN] for i in range(len(text) - MIN_LEN + 1)}
        found: set[str] = set()
        for g in grams & self._by_prefix.keys():
            found.update(lit for lit in self._by_prefix[g] if lit in text)
        return frozenset(found)
