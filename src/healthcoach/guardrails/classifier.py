"""The semantic classifier: sentence embeddings + a multinomial logistic regression.

Trained at load on the policy's examples (one class per category) against the near-misses and
general allowed examples (the 'allowed' class). The learned weights are cached on disk keyed by
a sha256 of the policy files and the embedding model, so a second load does not retrain.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from healthcoach.guardrails.normalize import normalize
from healthcoach.guardrails.policy import CATEGORY_NAMES, Policy
from healthcoach.guardrails.spelling import spelling_digest

log = logging.getLogger(__name__)
ALLOWED = "allowed"
CACHE_VERSION = "2"


class Encoder(Protocol):
    """What the classifier needs from healthcoach.store.embeddings.Embedder."""

    def encode(self, texts: list[str]) -> NDArray[np.float32]: ...


class Classifier:
    """Scores normalised text against each category; probabilities sum to 1 over classes."""

    def __init__(self, encoder: Encoder, classes: list[str], coef: NDArray[np.float64],
                 intercept: NDArray[np.float64], from_cache: bool,
                 examples: NDArray[np.float32] | None = None, example_labels: NDArray[np.str_] | None = None) -> None:
        self.encoder = encoder
        self.classes = classes
        self.coef = coef
        self.intercept = intercept
        self.examples = examples if examples is not None else np.zeros((0, coef.shape[1]), np.float32)
        self.example_labels = example_labels if example_labels is not None else np.asarray([], dtype=str)
        self.from_cache = from_cache  # True when the weights were read from disk (no retrain)

    @classmethod
    def build(cls, policy: Policy, encoder: Encoder, cache_dir: Path | None, model_id: str) -> Classifier:
        """Load cached weights for this policy digest, or train and (if cache_dir) cache them."""
        # The examples are trained as normalised text, so the spelling vocabulary is part of the key.
        ident = f"{CACHE_VERSION}|{policy.digest}|{spelling_digest()}|{model_id}"
        key = hashlib.sha256(ident.encode()).hexdigest()[:32]
        path = Path(cache_dir) / f"guard-classifier-{key}.npz" if cache_dir else None
        if path is not None and path.is_file():
            try:
                data = np.load(path, allow_pickle=False)
                return cls(encoder, [str(c) for c in data["classes"]], data["coef"], data["intercept"], True,
                           data["examples"].astype(np.float32), data["example_labels"])
            except (OSError, ValueError, KeyError):  # a corrupt cache is rebuilt, never trusted
                log.warning("guard classifier cache unreadable; retraining")
        texts, labels = training_set(policy)
        # lazy: start-up time. scikit-learn takes seconds to import and is not needed on a cache hit.
        from sklearn.linear_model import LogisticRegression

        x = encoder.encode([normalize(t) for t in texts])
        model = LogisticRegression(C=policy.config.classifier.C, max_iter=policy.config.classifier.max_iter,
                                   class_weight=policy.config.classifier.class_weight)
        model.fit(x, np.asarray(labels))
        classes = [str(c) for c in model.classes_]
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, classes=np.asarray(classes), coef=coef, intercept=intercept,
                     examples=x.astype(np.float16), example_labels=np.asarray(labels))
            tmp.replace(path)
        return cls(encoder, classes, coef, intercept, False, x.astype(np.float32), np.asarray(labels))

    def scores(self, texts: list[str]) -> list[dict[str, float]]:
        """Class probabilities for each already-normalised text (one embedding batch)."""
        return [p for p, _s in self.analyse(texts)]

    def analyse(self, texts: list[str]) -> list[tuple[dict[str, float], dict[str, float]]]:
        """(class probabilities, support) per text; support = mean cosine similarity to the 3 nearest
        training examples of each class."""
        # einsum, not BLAS matmul: OpenBLAS worker threads spin after a call and steal the CPU from the
        # next embedding (measured here: a 3 ms check became 8 ms). These products are tiny anyway.
        x = self.encoder.encode(texts).astype(np.float64)
        logits = np.einsum("ij,kj->ik", x, self.coef) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        sims = np.einsum("ij,kj->ik", x.astype(np.float32), self.examples)
        out = []
        for row, sim in zip(p, sims, strict=True):
            support = {}
            for c in self.classes:
                top = np.sort(sim[self.example_labels == c])[-3:]
                support[c] = float(top.mean()) if top.size else 0.0
            out.append((dict(zip(self.classes, row.tolist(), strict=True)), support))
        return out


def training_set(policy: Policy) -> tuple[list[str], list[str]]:
    """Examples labelled by category; near-misses and general examples labelled 'allowed'."""
    texts: list[str] = []
    labels: list[str] = []
    for name in CATEGORY_NAMES:
        cat = policy.category(name)
        texts += cat.examples
        labels += [name] * len(cat.examples)
        texts += cat.near_misses
        labels += [ALLOWED] * len(cat.near_misses)
    texts += policy.allowed.examples
    labels += [ALLOWED] * len(policy.allowed.examples)
    return texts, labels
