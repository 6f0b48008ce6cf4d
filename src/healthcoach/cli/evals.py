"""`healthcoach eval qa|safety|bench`: the eval suites, reports as JSON + Markdown (+ PNG)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import typer

from healthcoach.cli.common import app_context, console, fail
from healthcoach.coach import Coach
from healthcoach.container import Stores, build_coach
from healthcoach.evals.baseline import NaiveBaseline
from healthcoach.evals.bench import run_bench
from healthcoach.evals.llm_qa import LLMStats
from healthcoach.evals.llm_report import Recorder, llm_report, write_llm_report
from healthcoach.evals.loso import guard_judge, leave_one_source_out
from healthcoach.evals.population import default_shared_data, eval_settings, ingest_population, people
from healthcoach.evals.qa import run_cases
from healthcoach.evals.qa_run import coach_asker, people_cases, qa_report, write_qa_report
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

eval_app = typer.Typer(help="Evaluate: record QA, safety, benchmarks. Reports go to eval/results/.")
DEFAULT_REPORT = Path("eval/results")


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


@eval_app.command("qa")
def qa(
    ctx: typer.Context,
    data: Path | None = typer.Option(None, "--data", help="Shared data dir (default: ../shared/data if present)."),
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Where to write qa.json and qa.md."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Also score the naive vector baseline."),
    llm: str | None = typer.Option(None, "--llm", help="Answer through this LLM provider (llamacpp, ollama, "
                                   "openai); model and endpoint from HEALTHCOACH_LLM__* settings."),
    limit: int | None = typer.Option(None, "--limit", help="Ask at most this many questions (LLM runs are slow)."),
) -> None:
    """Record QA over the bundled person and the shared patients, beside a naive vector baseline."""
    app = app_context(ctx)
    shared = data or default_shared_data()
    with tempfile.TemporaryDirectory(prefix="hc-eval-") as tmp:
        work = Path(tmp)
        settings = eval_settings(work / "stores", app.settings)
        if llm:
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"provider": llm})})
        persons = people(shared, work)
        console.print(f"ingesting {len(persons)} people ...")
        pop = ingest_population(settings, persons, progress=lambda n: console.print(f"  {n}", highlight=False))
        coach = build_coach(settings, pop.stores)
        stats, recorder = None, Recorder(coach_asker(coach, pop.stores))
        if llm:
            stats = LLMStats(llm, settings.llm.model or "default")
            recorder.then = stats.add
            coach.llm_observer = recorder.observe
        cases = people_cases([(p.name, p.user_id, p.truth) for p in persons], phrasings_path())
        if limit:
            cases = cases[:: max(1, len(cases) // limit)][:limit]
        console.print(f"asking {len(cases)} questions ...")
        ours = run_cases(cases, recorder)
        base = None
        if baseline:
            console.print("indexing raw FHIR JSON for the naive baseline ...")
            naive = NaiveBaseline(pop.stores.embedder)
            for p in persons:
                naive.index(p.user_id, p.bundle)
            base = [naive.answer(c) for c in cases]
        result = qa_report(ours, base)
        if stats is not None:
            result["llm"] = stats.summary()
            write_llm_report(llm_report(ours, recorder.seen), f"{llm} {stats.model}", report)
        else:
            result["wearables"] = wearable_suite(coach, pop.stores, shared, work)
    paths = write_qa_report(result, report)
    console.print(paths["md"].read_text(), highlight=False)


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


@eval_app.command("bench")
def bench(
    ctx: typer.Context,
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Where to write bench.json and bench.md."),
    data: Path | None = typer.Option(None, "--data", help="Shared data dir (default: ../shared/data if present)."),
    only: list[str] = typer.Option([], "--only", help="Run only these parts: ingest, answers, guard, wearables, scale, heap_scrub."),
) -> None:
    """Benchmarks: ingest vs raw encoder, re-ingest, answer and guard latency, wearables, scale."""
    app = app_context(ctx)
    result = run_bench(app.settings, data, report, set(only) or None, log=lambda m: console.print(m, highlight=False))
    console.print(result["markdown"], highlight=False)
