"""LangChain with healthcoach, offline, over the bundled synthetic person (no real data, no network).

    python examples/langchain_chain.py            # after `pip install -e '.[dev]'` (or `make install`)

1. HealthRecordsRetriever: the person's records as Documents (dated, sourced, with record ids).
2. GuardedCoach: the coach as a Runnable inside an LCEL chain with a conversation history.
3. Streaming and batching through the same guarded path; an emergency gets the emergency response.
4. With HEALTHCOACH_LLM__PROVIDER set (e.g. llamacpp with the SmolLM2 GGUF), a RAG chain of your own: the
   retriever's records in a prompt to that model. Without one, this step says so and is skipped.

Stores go to a temporary folder that is deleted at the end."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnablePassthrough

from healthcoach.compose.llm import build_chat_model
from healthcoach.container import build_coach, build_stores
from healthcoach.integrations.langchain import GuardedCoach, HealthRecordsRetriever
from healthcoach.integrations.lookups import RecordLookups
from healthcoach.records.models import Category
from healthcoach.sample.generator import write_person
from healthcoach.settings import Settings

USER = "sample"


def records_block(docs: list[Document]) -> str:
    """Documents as lines a prompt can cite: '[record id] sentence'."""
    return "\n".join(f"[{d.metadata.get('record_id', d.metadata['kind'])}] {d.page_content}" for d in docs)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="healthcoach-example-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        stores = build_stores(settings)
        bundle, _truth = write_person(Path(tmp) / "person")
        stores.ingestor.ingest(USER, [bundle])
        stores.records.set_consent(USER, records=True)  # this synthetic person opts in to records in chat
        lookups = RecordLookups(build_coach(settings, stores), via="langchain")
        retriever = HealthRecordsRetriever(lookups=lookups, user_id=USER)
        coach = GuardedCoach(lookups, USER)

        print("1. Records as Documents")
        for doc in retriever.invoke("cholesterol")[:3]:
            print(f"   {doc.metadata['date']}  {doc.page_content[:90]}  ({doc.metadata['record_id']})")
        labs = HealthRecordsRetriever(lookups=lookups, user_id=USER, category=Category.lab, k=2)
        print(f"   labs only: {[d.metadata['label'] for d in labs.invoke('kidney function')]}")

        print("\n2. The guarded coach in a chain with history")
        prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{message}")])
        chat = prompt | coach
        first = chat.invoke({"history": [], "message": "What's my A1c?"})
        history = [HumanMessage("What's my A1c?"), first]
        follow = chat.invoke({"history": history, "message": "and before that?"})
        for reply in (first, follow):
            cites = reply.response_metadata["healthcoach"]["citations"]
            shown = [(c["date"], c["record_id"]) for c in cites[:2]]
            print(f"   {reply.text.splitlines()[0]}\n     cites: {shown}")

        print("\n3. Stream and batch")
        streamed = "".join(chunk.text for chunk in coach.stream("When was my last flu shot?"))
        print(f"   streamed: {streamed.splitlines()[0]}")
        questions = ["Do I have any allergies?", "Should I double my metformin?",
                     "my dad collapsed and isn't breathing"]
        for question, reply in zip(questions, coach.batch(questions), strict=True):
            verdict = reply.response_metadata["healthcoach"]
            print(f"   {question!r} -> {verdict['action']}: {reply.text.splitlines()[0][:80]}")

        print("\n4. Your own RAG chain with your own model")
        model = build_chat_model(settings.llm)
        if model is None:
            print("   skipped: set HEALTHCOACH_LLM__PROVIDER (llamacpp, ollama, openai) to try it")
            return
        rag_prompt = ChatPromptTemplate.from_messages([
            ("system", "Answer only from these records and cite the [id]:\n{records}"),
            ("human", "{question}")])
        rag = {"records": retriever | records_block, "question": RunnablePassthrough()} | rag_prompt | model
        answer = (rag | StrOutputParser()).invoke("What was my last LDL cholesterol?")
        print(f"   unguarded model answer (check it yourself): {answer[:200]}")


if __name__ == "__main__":
    main()
