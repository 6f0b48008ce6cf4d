"""Report helpers shared by every eval: thresholds, JSON, Markdown tables and PNG plots.

Plots use matplotlib's object API with the Agg canvas (no pyplot, no global backend switch), so
reports render on headless machines and in tests without touching process-wide state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from healthcoach.errors import ConfigError

Op = Literal["min", "max"]


@dataclass(frozen=True)
class Threshold:
    """A target for one metric: the value must be >= target (``min``) or <= target (``max``)."""

    metric: str
    op: Op
    target: float


@dataclass(frozen=True)
class ThresholdCheck:
    """The outcome of one threshold: ``status`` is ``pass``, ``fail`` or ``n/a`` (no data)."""

    metric: str
    op: Op
    target: float
    value: float | None
    status: Literal["pass", "fail", "n/a"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "metric": self.metric,
            "op": self.op,
            "target": self.target,
            "value": self.value,
            "status": self.status,
        }


def load_thresholds(path: Path, section: str) -> dict[str, Threshold]:
    """Read one section of a thresholds YAML file (``section: {metric: {min|max: number}}``).

    A missing file, a missing section or a malformed entry raises ConfigError naming the file.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read thresholds ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get(section), dict):
        raise ConfigError(f"{path}: no '{section}' section of metric targets")
    out: dict[str, Threshold] = {}
    for metric, spec in data[section].items():
        if not isinstance(spec, dict) or len(spec) != 1:
            raise ConfigError(f"{path}: {section}.{metric} must be {{min: N}} or {{max: N}}")
        ((op, target),) = spec.items()
        if op not in ("min", "max"):
            raise ConfigError(f"{path}: {section}.{metric}: unknown bound '{op}' (use min or max)")
        if isinstance(target, bool) or not isinstance(target, int | float) or not math.isfinite(target):
            raise ConfigError(f"{path}: {section}.{metric}.{op} must be a number")
        out[str(metric)] = Threshold(metric=str(metric), op=op, target=float(target))
    return out


def check_thresholds(
    metrics: Mapping[str, float | None], thresholds: Mapping[str, Threshold]
) -> tuple[ThresholdCheck, ...]:
    """Compare metrics with their targets. A metric with no value (no cases) is ``n/a``.

    A threshold naming a metric the eval does not produce is a configuration error, so a typo in
    thresholds.yaml cannot silently pass.
    """
    checks = []
    for name, th in thresholds.items():
        if name not in metrics:
            raise ConfigError(f"threshold for unknown metric '{name}' (known: {', '.join(sorted(metrics))})")
        value = metrics[name]
        if value is None:
            status: Literal["pass", "fail", "n/a"] = "n/a"
        elif th.op == "min":
            status = "pass" if value >= th.target else "fail"
        else:
            status = "pass" if value <= th.target else "fail"
        checks.append(ThresholdCheck(th.metric, th.op, th.target, value, status))
    return tuple(checks)


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON, creating parent folders; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_markdown(path: Path, text: str) -> Path:
    """Write Markdown text (ending in one newline), creating parent folders; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return path


def md_cell(value: object) -> str:
    """Render a value for a Markdown table cell: pipes escaped, newlines flattened."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = [
        "| " + " | ".join(md_cell(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_rate(value: float | None) -> str:
    """A rate in [0, 1] as a percentage with one decimal, or an em dash when there is no data."""
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_ms(value: float | None) -> str:
    """Milliseconds with two decimals, or an em dash."""
    return "—" if value is None else f"{value:.2f} ms"


def save_heatmap_png(
    path: Path,
    matrix: Sequence[Sequence[int]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    """Draw an annotated count matrix (e.g. a confusion matrix) to a PNG; returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency: the eval extra
    from matplotlib.figure import Figure  # optional dependency: the eval extra

    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(1.4 * len(col_labels) + 2.5, 1.0 * len(row_labels) + 2.0), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    data = [[int(v) for v in row] for row in matrix]
    image = ax.imshow(data, cmap="Blues", aspect="auto")
    peak = max((v for row in data for v in row), default=0)
    for i, row in enumerate(data):
        for j, v in enumerate(row):
            colour = "white" if peak and v > peak / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", color=colour, fontsize=10)
    ax.set_xticks(range(len(col_labels)), labels=list(col_labels), rotation=30, ha="right")
    ax.set_yticks(range(len(row_labels)), labels=list(row_labels))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
