"""The typed-query path of Coach.ask in one object: read a question into a Query, decide whether the
executor answers it, run it and compose the grounded answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from healthcoach.compose.query_templates import QueryComposer
from healthcoach.compose.templates import Answer
from healthcoach.retrieval.executor import Executor
from healthcoach.retrieval.planner import Plan, Planner
from healthcoach.retrieval.query import Query
from healthcoach.retrieval.query_reader import QueryReader


@dataclass
class QueryEngine:
    """Reader + executor + per-operation templates."""

    planner: Planner
    reader: QueryReader
    executor: Executor
    composer: QueryComposer

    def read(self, message: str, plan: Plan, today: date, user_turns: Sequence[str] = (),
             has_wearables: bool = False) -> Query:
        """The typed query for a message. A follow-up without a subject of its own ("and the lowest?",
        "in pounds?") takes it from the latest earlier user turn that had one."""
        earlier: list[Query] = []
        if user_turns and not plan.concepts and not plan.category:
            for i in range(len(user_turns) - 1, max(-1, len(user_turns) - 4), -1):
                turn = user_turns[i]
                prev_plan = self.planner.plan(turn, today, user_turns[:i], has_wearables=has_wearables)
                prev = self.reader.read(turn, prev_plan, today)
                if prev.has_target:
                    earlier.append(prev)
                    break
        return self.reader.read(message, plan, today, earlier)

    def answer(self, user_id: str, query: Query, intent: str, today: date) -> Answer | None:
        """The executor's answer, or None when the intent templates answer this query."""
        if not self.executor.takes(user_id, query, intent):
            return None
        return self.composer.compose(self.executor.run(user_id, query), today)
