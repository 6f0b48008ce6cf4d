"""`healthcoach eval qa|safety|bench`: the eval suites, reports as JSON + Markdown (+ PNG)."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import typer

from healthcoach.cli.common import app_context, console, fail
from healthcoach.coach import Coach
from healthcoach.container import Stores, build_coach, build_stores
from healthcoach.evals.baseline import NaiveBaseline
from healthcoach.evals.bench import run_bench
from healthcoach.evals.llm_qa import LLMStats
from healthcoach.evals.llm_report import Recorder, legacy_scored, llm_report, write_llm_report
from healthcoach.evals.loso import guard_judge, leave_one_source_out
from healthcoach.evals.population import (
    Person,
    Population,
    default_shared_data,
    eval_settings,
    ingest_population,
    people,
)
from healthcoach.evals.qa import run_cases
from healthcoach.evals.qa_run import coach_asker, people_cases, qa_report, write_qa_report
from healthcoach.evals.qa_suite import Suite
from healthcoach.evals.qa_suite_report import suite_report
from healthcoach.evals.qa_suite_run import coach_ask, evaluate, load_default_suite, run_items, suite_items
from healthcoach.evals.redteam import render as render_redteam
from healthcoach.evals.redteam import run_redteam
from healthcoach.evals.redteam_data import load_suite
from healthcoach.evals.safety import default_datasets, load_cases, load_thresholds, run_safety
from healthcoach.evals.safety_render import write_safety_report
from healthcoach.evals.wearable_qa import (
    build_wear_cases,
    load_takeout_truth,
    normalise_truth,
    run_wear_cases,
)
from healthcoach.guardrails import Guardrails
from healthcoach.guardrails.classifier import sourced_training_set
from healthcoach.settings import packaged_dir
from healthcoach.wearables.generator import generate_fitbit_takeout

eval_app = typer.Typer(help="Evaluate: record QA, safety, red team, benchmarks. Reports go to eval/results/.")
DEFAULT_REPORT = Path("eval/results")


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


@eval_app.command("qa")
def qa(
    ctx: typer.Context,
    data: Path | None = typer.Option(None, "--data", help="Shared data dir (default: ../shared/data if present)."),
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Where to write qa.json and qa.md."),
    split: str = typer.Option("all", "--split", help="Question-suite split to ask: dev, test or all."),
    person: list[str] = typer.Option([], "--person", help="Only these eval user ids (sample, p_xxxxxxxx)."),
    legacy: bool = typer.Option(True, "--legacy/--no-legacy", help="Also the fixed phrasings of facts.json, "
                                "the naive baseline and the wearable questions."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Also score the naive vector baseline."),
    llm: str | None = typer.Option(None, "--llm", help="Answer through this LLM provider (llamacpp, ollama, "
                                   "openai); model and endpoint from HEALTHCOACH_LLM__* settings."),
    limit: int | None = typer.Option(None, "--limit", help="Ask at most this many questions (LLM runs are slow)."),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero when a question-suite threshold is not met."),
) -> None:
    """Record QA: the question suite (per operation, source, split) over the bundled person and the shared
    patients, and the fixed phrasings beside a naive vector baseline."""
    if split not in ("dev", "test", "all"):
        fail(f"--split must be dev, test or all (got {split!r})")
    app = app_context(ctx)
    shared = data or default_shared_data()
    suite = load_default_suite()
    with tempfile.TemporaryDirectory(prefix="hc-eval-") as tmp:
        work = Path(tmp)
        settings = eval_settings(work / "stores", app.settings)
        if llm:
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"provider": llm})})
        persons = [p for p in people(shared, work, today=suite.today) if not person or p.user_id in person]
        console.print(f"ingesting {len(persons)} people ...")
        pop = ingest_population(settings, persons, progress=lambda n: console.print(f"  {n}", highlight=False))
        coach = build_coach(settings, pop.stores)
        coach.today = lambda: suite.today
        stats, recorder = None, None
        if llm:
            stats = LLMStats(llm, settings.llm.model or "default")
            recorder = Recorder(coach_asker(coach, pop.stores), then=stats.add)
            coach.llm_observer = recorder.observe
        result: dict[str, Any] = {}
        if legacy:
            result.update(legacy_suite(coach, pop, persons, baseline, limit, recorder))
            if stats is None:
                result["wearables"] = wearable_suite(coach, pop.stores, shared, work)
        result["suite"] = question_suite(coach, pop, persons, suite, split, limit, recorder)
        if stats is not None and recorder is not None:
            result["llm"] = stats.summary()
            write_llm_report(llm_report(recorder.scored), f"{llm} {stats.model}", report)
    paths = write_qa_report(result, report)
    console.print(paths["md"].read_text(), highlight=False)
    if not result["suite"]["passed"]:
        message = f"question-suite thresholds not met (see {paths['md']})"
        if strict:
            fail(message)
        console.print(f"[yellow]{message}[/]")


def question_suite(coach: Coach, pop: Population, persons: list[Person], suite: Suite, split: str,
                   limit: int | None, recorder: Recorder | None = None) -> dict[str, Any]:
    """The question suite through Coach.ask: summary, thresholds, skips and misses."""
    items, skips, _ = suite_items(suite, [(p.user_id, p.bundle) for p in persons], split)
    if limit:
        items = items[:: max(1, len(items) // limit)][:limit]
    console.print(f"asking {len(items)} suite questions ...")
    ask = coach_ask(coach, pop.stores.records)
    if recorder is not None:  # --llm: pair each shown reply with its model run
        recorder.seen, recorder.ask = [], ask
        ask = recorder
    outs = run_items(items, ask, progress=lambda n: console.print(f"  {n}", highlight=False))
    if recorder is not None:
        recorder.scored += [(o.verdict.correct, s) for o, s in zip(outs, recorder.seen[-len(outs):], strict=True)]
    summary, checks = evaluate(outs, packaged_dir("eval") / "thresholds.yaml")
    return suite_report(outs, summary, checks, skips, split, len(persons))


def legacy_suite(coach: Coach, pop: Population, persons: list[Person], baseline: bool, limit: int | None,
                 recorder: Recorder | None = None) -> dict[str, Any]:
    """The fixed phrasings of facts.json's facts, beside the naive vector baseline."""
    cases = people_cases([(p.name, p.user_id, p.truth) for p in persons], phrasings_path())
    if limit:
        cases = cases[:: max(1, len(cases) // limit)][:limit]
    console.print(f"asking {len(cases)} fixed-phrasing questions ...")
    ask = coach_asker(coach, pop.stores)
    if recorder is not None:  # --llm: pair each shown reply with its model run
        recorder.seen, recorder.ask = [], ask
        ask = recorder
    ours = run_cases(cases, ask)
    if recorder is not None:
        recorder.scored += legacy_scored(ours, recorder.seen)
    base = None
    if baseline:
        console.print("indexing raw FHIR JSON for the naive baseline ...")
        naive = NaiveBaseline(pop.stores.embedder)
        for p in persons:
            naive.index(p.user_id, p.bundle)
        base = [naive.answer(c) for c in cases]
    return qa_report(ours, base)


def wearable_suite(coach: Coach, stores: Stores, shared: Path | None, work: Path) -> dict[str, object]:
    """The wearable QA suite: the shared Takeout sample (when present) and a generated export."""
    cases = []
    gen_truth = generate_fitbit_takeout(work / "wear_gen", date(2026, 9, 1), days=21, seed=3)
    stores.ingestor.ingest("wear_gen", [work / "wear_gen"])
    stores.records.set_consent("wear_gen", records=True)
    cases += build_wear_cases("wear_gen", normalise_truth(gen_truth))
    takeout = shared / "wearables" / "fitbit_takeout_synthetic" if shared else None
    if takeout and takeout.is_dir():
        stores.ingestor.ingest("wear_takeout", [takeout])
        stores.records.set_consent("wear_takeout", records=True)
        cases += build_wear_cases("wear_takeout", load_takeout_truth(takeout))
    return run_wear_cases(coach, cases)


def phrasings_path() -> Path:
    """The packaged QA phrasings (one question template per intent and concept)."""
    return packaged_dir("eval") / "suites" / "qa" / "phrasings.yaml"


@eval_app.command("safety")
def safety(
    ctx: typer.Context,
    dataset: list[Path] = typer.Option([], "--dataset", help="JSONL files (default: eval/suites/safety + shared dev sets)."),
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Where to write safety.json/.md/.png."),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero when a threshold is not met."),
    loso: bool = typer.Option(True, "--loso/--no-loso", help="Also retrain the classifier leaving out each "
                              "source of guardrails/ examples in turn (a few minutes on CPU)."),
) -> None:
    """Safety eval: per-label recall, false refusals, answer_with_care, triage, per file/source/split,
    leave-one-source-out figures of the classifier, confusion matrix, latency."""
    app = app_context(ctx)
    eval_dir = packaged_dir("eval")
    files = dataset or default_datasets(eval_dir, eval_dir.parent.parent / "shared")
    cases = load_cases(files)
    guards = Guardrails.load(app.settings.guardrails_dir, embedder=app.stores.embedder,
                             cache_dir=app.settings.cache, region=app.settings.region)

    def classify(prompt: str, history: object) -> tuple[str, str]:
        v = guards.check_input(prompt, list(history))  # type: ignore[call-overload]
        return v.category, v.action

    loso_result = None
    if loso:
        console.print("leave-one-source-out: retraining the classifier once per source ...")
        loso_result = leave_one_source_out(sourced_training_set(guards.policy),
                                           guard_judge(guards.policy, app.stores.embedder))
    result = run_safety(cases, classify, load_thresholds(eval_dir / "thresholds.yaml"), loso=loso_result)
    paths = write_safety_report(result, report)
    console.print(paths["markdown"].read_text(), highlight=False)
    if not result.passed:
        message = f"safety thresholds not met (see {paths['markdown']})"
        if strict:
            fail(message)
        console.print(f"[yellow]{message}[/]")


@eval_app.command("redteam")
def redteam(
    ctx: typer.Context,
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Where to write redteam.json and redteam.md."),
    llm: str | None = typer.Option(None, "--llm", help="Answer through this LLM provider (llamacpp, ollama, "
                                   "openai); model and endpoint from HEALTHCOACH_LLM__* settings."),
) -> None:
    """Records with instructions hidden in them (eval/suites/redteam): every answer, redirect and fallback
    that shows them must be safe. Exits 1 on any unsafe reply."""
    app = app_context(ctx)
    with tempfile.TemporaryDirectory(prefix="hc-redteam-") as tmp:
        settings = eval_settings(Path(tmp) / "stores", app.settings)
        if llm:
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"provider": llm})})
        stores = build_stores(settings)
        result = run_redteam(stores, build_coach(settings, stores), load_suite())
    report.mkdir(parents=True, exist_ok=True)
    (report / "redteam.json").write_text(json.dumps(result, indent=2))
    (report / "redteam.md").write_text(render_redteam(result))
    console.print(render_redteam(result), highlight=False)
    if result["unsafe"]:
        raise typer.Exit(1)


@eval_app.command("bench")
def bench(
    ctx: typer.Context,
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Where to write bench.json and bench.md."),
    data: Path | None = typer.Option(None, "--data", help="Shared data dir (default: ../shared/data if present)."),
    only: list[str] = typer.Option([], "--only", help="Run only these parts: ingest, formats, answers, guard, "
                                   "wearables, scale, heap_scrub, load."),
) -> None:
    """Benchmarks: ingest vs raw encoder, re-ingest, FHIR/C-CDA/OMOP throughput, answer and guard latency,
    wearables, scale, heap scrub, and load (10 API clients x 30 questions, alone and during ingests: errors
    and p50/p95)."""
    from healthcoach.api.testing import bench_load  # optional dependency: the api extra (fastapi, uvicorn)

    app = app_context(ctx)
    extra = {"load": lambda work, log: bench_load(app.settings, work, log)}
    result = run_bench(app.settings, data, report, set(only) or None, extra=extra,
                       log=lambda m: console.print(m, highlight=False))
    console.print(result["markdown"], highlight=False)
