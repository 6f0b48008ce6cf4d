"""`healthcoach eval remote`: this project's safety and record-QA suites sent to any OpenAI-compatible chat
endpoint and scored side by side with this project; `healthcoach eval serve-population`: this project's own
server over the eval population, so it can be measured the same way."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import typer

from healthcoach.cli.common import app_context, console, err_console, fail
from healthcoach.cli.evals import DEFAULT_REPORT, eval_app, phrasings_path
from healthcoach.container import CoachBundle, build_coach
from healthcoach.evals.population import Person, default_shared_data, eval_settings, ingest_population, people
from healthcoach.evals.qa import run_cases
from healthcoach.evals.qa_run import coach_asker, people_cases
from healthcoach.evals.remote_client import ChatEndpoint, EndpointConfig
from healthcoach.evals.remote_qa import person_context, run_endpoint_qa, spread
from healthcoach.evals.remote_report import build_report, qa_section, safety_section, write_remote_report
from healthcoach.evals.remote_safety import run_remote_safety
from healthcoach.evals.rubric import Rubric
from healthcoach.evals.safety import load_cases

SAFETY_USER = "sample"  # the bundled synthetic person answers the safety prompts on this project's side


def register(app: typer.Typer) -> None:
    eval_app.command("remote")(remote)
    eval_app.command("serve-population")(serve_population)


def _log(message: str) -> None:
    err_console.print(message, highlight=False)


def _safety_files(dataset: list[Path], shared: Path | None) -> list[Path]:
    if dataset:
        return dataset
    sets = sorted((shared.parent / "evalsets").glob("*.dev.jsonl")) if shared else []
    if not sets:
        fail("no safety prompts: pass --dataset FILE.jsonl (or put the shared dev sets in "
             "../shared/evalsets)")
    return sets


def _keys(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{path}: cannot read the person keys ({exc})")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        fail(f"{path}: expected a JSON object of user id -> API key")
    return data


def remote(
    ctx: typer.Context,
    base_url: str = typer.Option(..., "--base-url", help="OpenAI-compatible base URL: http://host:port/v1."),
    model: str = typer.Option(..., "--model", help="Model name sent with every request."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Environment variable: API key."),
    suite: str = typer.Option("all", "--suite", help="qa, safety or all."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most N prompts per suite (spread)."),
    qa_limit: int | None = typer.Option(None, "--qa-limit", min=1, help="At most N record questions "
                                        "(default: --limit)."),
    concurrency: int = typer.Option(2, "--concurrency", min=1, max=64, help="Requests in flight at once."),
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Where to write remote.json/.md/.png."),
    data: Path | None = typer.Option(None, "--data", help="Shared data dir (default: ../shared/data)."),
    dataset: list[Path] = typer.Option([], "--dataset", help="Safety JSONL (default: the shared dev sets)."),
    max_tokens: int = typer.Option(256, "--max-tokens", min=16, help="Longest reply asked of the endpoint."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds per request before it is retried."),
    context_chars: int = typer.Option(16000, "--context-chars", help="Size of the FHIR summary per person."),
    person: list[str] = typer.Option([], "--person", help="Ask record questions only about these user ids "
                                     "(the bundled person is 'sample'; shared patients 'p_<id>')."),
    person_keys: Path | None = typer.Option(
        None, "--person-keys",
        help="JSON {user id: API key} for endpoints that hold each person's records (this project's); "
        "safety prompts use the 'sample' key unless --api-key-env is given."),
) -> None:
    """Score any OpenAI-compatible chat endpoint on this project's suites, side by side with this project:
    safety (the endpoint's action read by a deterministic rubric, validated on this project's replies) and
    record QA (each person's records as a FHIR summary in the system message)."""
    if suite not in ("qa", "safety", "all"):
        fail("--suite must be qa, safety or all")
    key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and not key:
        fail(f"--api-key-env {api_key_env}: that environment variable is not set")
    app, keys = app_context(ctx), _keys(person_keys)
    # Safety prompts are asked as the bundled person when the endpoint holds records per person.
    key = key or (keys or {}).get(SAFETY_USER)
    config = EndpointConfig(base_url, model, key, max_tokens=max_tokens, timeout_s=timeout)
    shared = data or default_shared_data()
    endpoint = ChatEndpoint(config)
    with tempfile.TemporaryDirectory(prefix="hc-remote-") as tmp:
        work = Path(tmp)
        wanted = set(person) | set(keys or ())
        persons = [p for p in people(shared, work) if not wanted or p.user_id in {*wanted, SAFETY_USER}]
        asked = [(p.name, p.user_id, p.truth) for p in persons if not wanted or p.user_id in wanted]
        cases = spread(people_cases(asked, phrasings_path()), qa_limit or limit) if suite != "safety" else []
        needed = {c.user_id for c in cases} | {SAFETY_USER}
        chosen = [p for p in persons if p.user_id in needed]
        _log(f"ingesting {len(chosen)} people into a throw-away store ...")
        pop = ingest_population(eval_settings(work / "stores", app.settings), chosen)
        coach = build_coach(pop.stores.settings, pop.stores)
        safety_doc = qa_doc = None
        if suite != "qa":
            safety_cases = spread_list(load_cases(_safety_files(dataset, shared)), limit)
            rubric = Rubric(coach.guards.policy.config.regions.values())
            run = run_remote_safety(safety_cases, coach, SAFETY_USER, endpoint, rubric, concurrency, _log)
            safety_doc = safety_section(run)
        if cases:
            qa_doc = _qa(cases, chosen, pop, coach, endpoint, concurrency, keys, context_chars)
    endpoint.close()
    paths = write_remote_report(build_report(config, safety_doc, qa_doc), report)
    console.print(paths["markdown"].read_text(), highlight=False)
    console.print(f"report: {paths['markdown']} (+ {paths['json'].name}, {paths['png'].name})")


def _qa(cases: list[Any], chosen: list[Person], pop: Any, coach: Any, endpoint: ChatEndpoint,
        concurrency: int, keys: dict[str, str] | None, context_chars: int) -> dict[str, Any]:
    _log(f"record QA: {len(cases)} questions through this project's coach ...")
    ours = run_cases(cases, coach_asker(coach, pop.stores))
    asked = {c.user_id for c in cases}
    contexts = {p.user_id: person_context(p.user_id, p.bundle, pop.stores.records, context_chars)
                for p in chosen if p.user_id in asked}
    _log(f"record QA: {len(cases)} questions to {endpoint.config.model} ...")
    def progress(done: int, total: int) -> None:
        if done % 20 == 0 or done == total:
            _log(f"  qa: {done}/{total}")

    theirs, errors = run_endpoint_qa(cases, contexts, endpoint, concurrency, keys, progress=progress)
    return qa_section(ours, theirs, errors, len(contexts))


def spread_list(items: list[Any], limit: int | None) -> list[Any]:
    """At most `limit` items spread evenly over the list (so every file and label keeps a share)."""
    if not limit or limit >= len(items):
        return items
    return [items[round(i * len(items) / limit)] for i in range(limit)]


def serve_population(
    ctx: typer.Context,
    keys: Path = typer.Option(..., "--keys", help="Where to write {user id: API key} for `eval remote`."),
    port: int = typer.Option(8411, "--port", help="Port to serve the API on (127.0.0.1 only)."),
    data: Path | None = typer.Option(None, "--data", help="Shared data dir (default: ../shared/data)."),
) -> None:
    """Serve this project's API over the eval population (the bundled person and the shared patients, each
    their own user with a token) in a throw-away store, for `eval remote --person-keys`. Until stopped."""
    import uvicorn  # optional dependency: the api extra

    from healthcoach.api.app import create_app  # optional dependency: the api extra
    from healthcoach.api.auth import create_token  # optional dependency: the api extra

    app = app_context(ctx)
    with tempfile.TemporaryDirectory(prefix="hc-population-") as tmp:
        persons = people(data or default_shared_data(), Path(tmp))
        _log(f"ingesting {len(persons)} people ...")
        pop = ingest_population(eval_settings(Path(tmp) / "stores", app.settings), persons)
        tokens = {p.user_id: create_token(pop.stores.records, p.user_id) for p in persons}
        keys.write_text(json.dumps(tokens, indent=1), encoding="utf-8")
        keys.chmod(0o600)
        settings = pop.stores.settings
        server = create_app(settings, CoachBundle.build(settings, pop.stores), ui=False)
        _log(f"serving http://127.0.0.1:{port}/v1 (keys in {keys}); Ctrl-C stops and deletes the store")
        uvicorn.run(server, host="127.0.0.1", port=port, log_level="warning")
