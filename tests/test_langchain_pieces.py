"""The LangChain pieces composed in LCEL chains with a scripted chat model: the records retriever feeding a
prompt, a model turning a casual message into a question for the guarded coach, and the coach runnable's
invoke, batch and stream (with and without a language model inside the coach)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import reduce
from operator import add
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from healthcoach.coach import Coach
from healthcoach.compose.llm import LLMComposer
from healthcoach.compose.prompts import Prompts
from healthcoach.integrations.langchain import (
    GuardedCoach,
    HealthRecordsRetriever,
    InvalidCoachInput,
    read_input,
)
from healthcoach.integrations.lookups import RecordLookups
from healthcoach.records.models import Category
from healthcoach.settings import Settings
from llm_fakes import ScriptedChatModel

EMERGENCY = "my wife collapsed and she's not breathing"


@pytest.fixture(scope="module")
def parts(sample_coach: tuple[Coach, Any, Any]) -> tuple[HealthRecordsRetriever, GuardedCoach, Any]:
    coach, _, truth = sample_coach
    lookups = RecordLookups(coach, via="langchain")
    return HealthRecordsRetriever(lookups=lookups, user_id="maria"), GuardedCoach(lookups, "maria"), truth


def context(docs: list[Document]) -> str:
    return "\n".join(f"[{d.metadata['record_id']}] {d.page_content}" for d in docs)


def test_the_retriever_feeds_a_rag_chain_with_dated_sourced_records(parts: Any) -> None:
    retriever, _, truth = parts
    model = ScriptedChatModel(replies=["Your last A1c is in the context."])
    prompt = ChatPromptTemplate.from_messages([("system", "Answer from these records:\n{context}"),
                                               ("human", "{question}")])
    inputs = {"context": retriever | context, "question": RunnablePassthrough()}
    chain = inputs | prompt | model | StrOutputParser()

    assert chain.invoke("What's my A1c?") == "Your last A1c is in the context."
    seen = str(model.calls[0][0].content)
    latest = truth["hba1c"]["latest"]
    assert f"{latest['date']}: Hemoglobin A1c" in seen and f"was {latest['value']:g} %" in seen
    docs = retriever.invoke("What's my A1c?")
    assert docs[0].metadata["date"] == latest["date"] and docs[0].metadata["kind"] == "record"
    assert docs[0].metadata["record_id"] and "FHIR export" in docs[0].metadata["source"]


def test_the_retriever_filters_by_category_and_says_when_it_is_a_safety_redirect(parts: Any) -> None:
    retriever, _, _ = parts
    labs = HealthRecordsRetriever(lookups=retriever.lookups, user_id="maria", category=Category.lab, k=3)
    docs = labs.invoke("cholesterol results")
    assert 0 < len(docs) <= 3 and {d.metadata["category"] for d in docs} == {"lab"}
    (redirect,) = retriever.invoke(EMERGENCY)
    assert redirect.metadata == {"kind": "safety_redirect", "blocked": True, "category": "emergency",
                                 "action": "escalate"}
    assert "Call 911" in redirect.page_content.splitlines()[0]


def test_a_model_rewrites_a_casual_message_and_the_guarded_coach_answers_with_citations(parts: Any) -> None:
    _, coach, truth = parts
    model = ScriptedChatModel(replies=["What's my A1c?", EMERGENCY])
    rewrite = ChatPromptTemplate.from_messages([("system", "Rewrite as one question."), ("human", "{text}")])
    chain = rewrite | model | StrOutputParser() | coach

    answer = chain.invoke({"text": "sugar number?"})
    extra = answer.response_metadata["healthcoach"]
    assert isinstance(answer, AIMessage) and f"{truth['hba1c']['latest']['value']:g} %" in answer.text
    assert extra["citations"][0]["date"] == truth["hba1c"]["latest"]["date"] and not extra["blocked"]
    escalated = chain.invoke({"text": "help"}).response_metadata["healthcoach"]
    assert escalated["action"] == "escalate" and escalated["category"] == "emergency"


def test_history_follows_a_conversation_through_a_prompt_with_a_placeholder(parts: Any) -> None:
    _, coach, truth = parts
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{message}")])
    chain = prompt | coach | StrOutputParser()
    history = [HumanMessage("What's my A1c?"), AIMessage("Your most recent A1c was 6.1 %.")]
    text = chain.invoke({"history": history, "message": "and before that?"})
    earlier = [r for r in truth["hba1c"]["series"] if r["date"] < truth["hba1c"]["latest"]["date"]]
    assert earlier and f"{earlier[-1]['value']:g} %" in text


def test_batch_and_stream_give_what_invoke_gives(parts: Any) -> None:
    _, coach, _ = parts
    questions = ["What's my A1c?", "Do I have any allergies?", EMERGENCY]
    one_by_one = [coach.invoke(q) for q in questions]
    batched = coach.batch(questions)
    assert [m.text for m in batched] == [m.text for m in one_by_one]
    chunks = list(coach.stream("What's my A1c?"))
    assert len(chunks) > 2 and all(isinstance(c, AIMessageChunk) for c in chunks)
    whole = reduce(add, chunks)
    assert whole.text == one_by_one[0].text
    assert whole.response_metadata["healthcoach"]["citations"] == one_by_one[0].response_metadata[
        "healthcoach"]["citations"]


@pytest.fixture
def coach_with_model(sample_coach: tuple[Coach, Any, dict[str, Any]]) -> Iterator[tuple[GuardedCoach, Any]]:
    coach = sample_coach[0]
    model = ScriptedChatModel()
    coach.llm = LLMComposer(model, Prompts.load(Settings().prompts_dir), coach.guards)
    try:
        yield GuardedCoach(RecordLookups(coach, via="langchain"), "maria"), model
    finally:
        coach.llm = None


def test_with_a_model_inside_the_coach_the_stream_sends_only_checked_text(coach_with_model: Any) -> None:
    runnable, model = coach_with_model
    model.replies = ["Your A1c was 9.9 % [1]."]  # a number no record states: the template answer replaces it
    chunks = list(runnable.stream("What's my A1c?"))
    texts = [c.text for c in chunks if c.text]
    assert len(texts) == 1 and "9.9" not in texts[0] and "6.1 %" in texts[0]
    assert chunks[-1].response_metadata["healthcoach"]["citations"] and len(model.calls) == 1
    model.replies = []
    assert runnable.invoke(EMERGENCY).response_metadata["healthcoach"]["action"] == "escalate"
    assert len(model.calls) == 1  # the model never saw the emergency


def test_inputs_it_reads_and_refuses() -> None:
    assert read_input("hi") == ("hi", [])
    pairs = [("human", "A1c?"), ("ai", "6.1")]
    message, history = read_input({"message": "and before that?", "history": pairs})
    assert message == "and before that?" and [t.role for t in history] == ["user", "assistant"]
    assert read_input([("system", "be brief"), ("user", "A1c?")]) == ("A1c?", [])
    with pytest.raises(InvalidCoachInput, match="no human/user message"):
        read_input([AIMessage("hello")])
    with pytest.raises(InvalidCoachInput, match="'message'"):
        RunnableLambda(read_input).invoke({"text": "no message key"})

