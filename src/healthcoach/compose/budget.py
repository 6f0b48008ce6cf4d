"""Context budget: the prompt is packed to fit the model's context window, leaving room for the reply.

Tokens are counted with the model's own tokenizer when it exposes one (llama.cpp's Llama.tokenize),
else estimated conservatively (digits count as a token each, as SmolLM2's tokenizer splits them).
Evidence is cut from its least relevant end: the template orders its citations most relevant first
(newest result, then earlier ones; summary sections in order), so the last rows go first, then the
checked answer's last lines. The caller tells the person "showing N of M" when rows were left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Counter = Callable[[str], int]
PROMPT_OVERHEAD = 64  # chat-template tokens around the system and user messages


def estimate_tokens(text: str) -> int:
    """An upper estimate of a text's tokens without a tokenizer: ~4 characters a token, digits 1 each."""
    digits = sum(c.isdigit() for c in text)
    return math.ceil((len(text) - digits) / 3.5) + digits


def token_counter(model: Any) -> Counter:
    """The model's own token count when it has a tokenizer (ChatLlamaCpp.client), else the estimate."""
    client = getattr(model, "client", None)
    tokenize = getattr(client, "tokenize", None)
    if callable(tokenize):
        def count(text: str) -> int:
            return len(tokenize(text.encode("utf-8"), add_bos=False, special=True))
        return count
    return estimate_tokens


@dataclass(frozen=True)
class Packed:
    """What fitted: the evidence rows kept of all rows, and the facts text (possibly cut)."""

    rows: int
    total_rows: int
    facts: str

    @property
    def cut(self) -> bool:
        """Whether anything was left out of the prompt."""
        return self.rows < self.total_rows


def cut_facts(facts: str, keep_chars: int) -> str:
    """facts cut at a line boundary to at most keep_chars, marked as cut."""
    if len(facts) <= keep_chars:
        return facts
    head = facts[:keep_chars]
    head = head[: head.rfind("\n")] if "\n" in head else head
    return head.rstrip() + "\n(… cut to fit)"


def pack(render: Callable[[int, str], str], total_rows: int, facts: str, budget: int, count: Counter) -> Packed:
    """The most rows (then the longest facts) for which count(render(rows, facts)) <= budget.

    render(rows, facts) returns the whole prompt text. Rows shrink first (halving, down to 3), then the
    facts are cut by lines; if even that does not fit the smallest prompt is returned (the model call
    fails and the template answer stands)."""
    rows = total_rows
    if count(render(rows, facts)) <= budget:
        return Packed(rows, total_rows, facts)
    lo, hi = min(3, total_rows), total_rows  # largest rows that fit, by bisection
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(render(mid, facts)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    rows = lo
    keep = len(facts)
    while count(render(rows, cut_facts(facts, keep))) > budget and keep > 200:
        keep = int(keep * 0.8)
    return Packed(rows, total_rows, cut_facts(facts, keep))
