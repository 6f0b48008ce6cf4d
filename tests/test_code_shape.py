"""The shape the developers' guide asks of the code, checked on every run: small files and functions,
imports at module level (except optional dependencies and the few kept lazy for start-up time, each
saying so), no import cycles, and the layer contracts of pyproject.toml ([tool.importlinter])."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "healthcoach"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
# An import inside a function is allowed only for these (optional extras, or too slow to import at
# start-up), and the line (or the comment line above it) must say which.
OPTIONAL = ("gradio", "healthcoach.ui", "healthcoach.api", "uvicorn", "fastapi", "matplotlib", "llama_cpp",
            "langchain_openai", "langchain_ollama", "langchain_community", "openai", "playwright", "onnx",
            "onnxruntime", "mcp", "healthcoach.mcp")
# healthcoach.cli: `python -m healthcoach` restarts itself (store/heap.py) before loading the CLI.
LAZY = ("torch", "sentence_transformers", "transformers", "sklearn", "healthcoach.cli")
MARKERS = ("# optional dependency", "# lazy: start-up time")


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_no_source_file_is_longer_than_400_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in _sources() if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES}
    assert not long, f"split these modules (over {MAX_FILE_LINES} lines): {long}"


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for path in _sources():
        for fn in _functions(ast.parse(path.read_text())):
            n = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            if n > MAX_FUNCTION_LINES:
                long.append(f"{path.relative_to(SRC)}:{fn.lineno} {fn.name} ({n} lines)")
    assert not long, f"split these functions (over {MAX_FUNCTION_LINES} lines): {long}"


def test_imports_inside_functions_are_only_optional_or_lazy_dependencies_and_say_so() -> None:
    bad = []
    for path in _sources():
        lines = path.read_text().splitlines()
        for fn in _functions(ast.parse("\n".join(lines))):
            for node in ast.walk(fn):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                where = f"{path.relative_to(SRC)}:{node.lineno} ({', '.join(modules)})"
                if not all(_matches(m, OPTIONAL + LAZY) for m in modules):
                    bad.append(f"{where}: move it to module level")
                    continue
                said = lines[node.lineno - 1] + (lines[node.lineno - 2] if node.lineno > 1 else "")
                if not any(marker in said for marker in MARKERS):
                    bad.append(f"{where}: say why it is here ({' or '.join(MARKERS)})")
    assert not bad, "\n".join(bad)


def test_the_function_level_import_rule_catches_a_stray_import() -> None:
    """The check above is not vacuous: a plain function-level import of a project module is found."""
    tree = ast.parse("def f():\n    from healthcoach.records.models import Record\n    return Record\n")
    found = [n for fn in _functions(tree) for n in ast.walk(fn) if isinstance(n, ast.ImportFrom)]
    assert [n.module for n in found] == ["healthcoach.records.models"]
    assert not _matches("healthcoach.records.models", OPTIONAL + LAZY)


def _lint_imports() -> str | None:
    beside = Path(sys.executable).with_name("lint-imports")
    return str(beside) if beside.exists() else shutil.which("lint-imports")


def test_layer_contracts_hold() -> None:
    """`lint-imports` (import-linter) keeps the layers, the forbidden imports and the no-cycle contract."""
    command = _lint_imports()
    if command is None:
        pytest.skip("lint-imports is not installed (pip install 'healthcoach[dev]' installs import-linter)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([command, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_no_module_imports_itself_through_others() -> None:
    """No import cycle between any two modules (the contracts check siblings; this checks every pair,
    a package's __init__ and its own modules included)."""
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (the dev extra)")
    graph = grimp.build_graph("healthcoach", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join((module, *back)))
    assert not cycles, "\n".join(cycles)
