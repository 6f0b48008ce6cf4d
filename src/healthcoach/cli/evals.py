"""`healthcoach eval qa|safety|bench`: the eval suites, reports as JSON + Markdown (+ PNG).

The commands are thin: their work lives in cli/evals_run.py and evals/, imported when an eval runs."""

from __future__ import annotations

from pathlib import Path

import typer

from healthcoach.cli.common import app_context, console

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
    from healthcoach.cli.evals_run import run_qa  # lazy: start-up time of every other command

    run_qa(app_context(ctx), data, report, baseline, llm, limit)


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
    from healthcoach.cli.evals_run import run_safety_eval  # lazy: start-up time

    run_safety_eval(app_context(ctx), dataset, report, strict, loso)


@eval_app.command("bench")
def bench(
    ctx: typer.Context,
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Where to write bench.json and bench.md."),
    data: Path | None = typer.Option(None, "--data", help="Shared data dir (default: ../shared/data if present)."),
    only: list[str] = typer.Option([], "--only", help="Run only these parts: ingest, answers, guard, wearables, scale, heap_scrub, cli_cold."),
) -> None:
    """Benchmarks: ingest vs raw encoder, re-ingest, answer and guard latency, wearables, scale."""
    from healthcoach.evals.bench import run_bench  # lazy: start-up time

    app = app_context(ctx)
    result = run_bench(app.settings, data, report, set(only) or None, log=lambda m: console.print(m, highlight=False))
    console.print(result["markdown"], highlight=False)
