"""The semantic classifier: sentence embeddings + a multinomial logistic regression.

Trained at load on the policy's examples (one class per category, plus 'care' for health-anxiety
questions) against the near-misses and general allowed examples (the 'allowed' class). The learned
weights are cached on disk keyed by a sha256 of the policy files and the embedding model, so a
second load does not retrain.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from healthcoach.guardrails.examples import sourced
from healthcoach.guardrails.normalize import normalize
from healthcoach.guardrails.policy import CATEGORY_NAMES, ClassifierConfig, Policy
from healthcoach.guardrails.spelling import spelling_digest

log = logging.getLogger(__name__)
ALLOWED = "allowed"
CARE = "care"
CACHE_VERSION = "3"


class Example(NamedTuple):
    """One training example: its text, its class and who wrote it."""

    text: str
    label: str
    source: str


class Weights(NamedTuple):
    """A fitted linear model over embeddings."""

    classes: list[str]
    coef: NDArray[np.float64]
    intercept: NDArray[np.float64]


class Encoder(Protocol):
    """What the classifier needs from healthcoach.store.embeddings.Embedder."""

    def encode(self, texts: list[str]) -> NDArray[np.float32]: ...


class Classifier:
    """Scores normalised text against each category; probabilities sum to 1 over classes."""

    def __init__(self, encoder: Encoder, classes: list[str], coef: NDArray[np.float64],
                 intercept: NDArray[np.float64], from_cache: bool,
                 examples: NDArray[np.float32] | None = None, example_labels: NDArray[np.str_] | None = None,
                 knn_weight: float = 0.0, knn_temperature: float = 0.02) -> None:
        self.encoder = encoder
        self.classes = classes
        self.coef = coef
        self.intercept = intercept
        self.knn_weight = knn_weight
        self.knn_temperature = knn_temperature
        self.examples = examples if examples is not None else np.zeros((0, coef.shape[1]), np.float32)
        self.example_labels = example_labels if example_labels is not None else np.asarray([], dtype=str)
        self.from_cache = from_cache  # True when the weights were read from disk (no retrain)

    @classmethod
    def build(cls, policy: Policy, encoder: Encoder, cache_dir: Path | None, model_id: str) -> Classifier:
        """Load cached weights for this policy digest, or train and (if cache_dir) cache them."""
        # The examples are trained as normalised text, so the spelling vocabulary is part of the key.
        ident = f"{CACHE_VERSION}|{policy.digest}|{spelling_digest()}|{model_id}"
        key = hashlib.sha256(ident.encode()).hexdigest()[:32]
        knn = {"knn_weight": policy.config.classifier.knn_weight,
               "knn_temperature": policy.config.classifier.knn_temperature}
        path = Path(cache_dir) / f"guard-classifier-{key}.npz" if cache_dir else None
        if path is not None and path.is_file():
            try:
                data = np.load(path, allow_pickle=False)
                return cls(encoder, [str(c) for c in data["classes"]], data["coef"], data["intercept"], True,
                           data["examples"].astype(np.float32), data["example_labels"], **knn)
            except (OSError, ValueError, KeyError):  # a corrupt cache is rebuilt, never trusted
                log.warning("guard classifier cache unreadable; retraining")
        texts, labels = training_set(policy)
        x = encoder.encode([normalize(t) for t in texts])
        classes, coef, intercept = fit(x, labels, policy.config.classifier)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, classes=np.asarray(classes), coef=coef, intercept=intercept,
                     examples=x.astype(np.float16), example_labels=np.asarray(labels))
            tmp.replace(path)
        return cls(encoder, classes, coef, intercept, False, x.astype(np.float32), np.asarray(labels), **knn)

    def scores(self, texts: list[str]) -> list[dict[str, float]]:
        """Class probabilities for each already-normalised text (one embedding batch)."""
        return [p for p, _s in self.analyse(texts)]

    def analyse(self, texts: list[str]) -> list[tuple[dict[str, float], dict[str, float]]]:
        """(class probabilities, support) per text; support = mean cosine similarity to the 3 nearest
        training examples of each class.

        The probabilities blend the logistic regression with a nearest-neighbour vote (a softmax of the
        support over classes), weighted by knn_weight: measured leave-one-source-out, the blend refuses
        fewer worried and look-alike questions from voices the model never saw, at equal recall."""
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
            sup = np.zeros(len(self.classes))
            for i, c in enumerate(self.classes):
                top = np.sort(sim[self.example_labels == c])[-3:]
                sup[i] = float(top.mean()) if top.size else 0.0
            if self.knn_weight > 0:
                vote = np.exp((sup - sup.max()) / self.knn_temperature)
                row = (1 - self.knn_weight) * row + self.knn_weight * vote / vote.sum()
            out.append((dict(zip(self.classes, row.tolist(), strict=True)),
                        dict(zip(self.classes, sup.tolist(), strict=True))))
        return out


def fit(x: NDArray[np.float32], labels: list[str], config: ClassifierConfig) -> Weights:
    """Fit the multinomial logistic regression on embeddings x (one row per label)."""
    # lazy: start-up time. scikit-learn takes seconds to import and is not needed on a cache hit.
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=config.C, max_iter=config.max_iter, class_weight=config.class_weight)
    model.fit(x, np.asarray(labels))
    return Weights([str(c) for c in model.classes_], np.asarray(model.coef_, dtype=np.float64),
                   np.asarray(model.intercept_, dtype=np.float64))


def sourced_training_set(policy: Policy) -> list[Example]:
    """Every training example with its class and source: category examples under the category's name,
    care examples as 'care', near-misses and general examples as 'allowed'."""
    out: list[Example] = []
    for name in CATEGORY_NAMES:
        cat = policy.category(name)
        out += [Example(t, name, s) for t, s in sourced(cat.example_sets)]
        out += [Example(t, ALLOWED, s) for t, s in sourced(cat.near_miss_sets)]
    out += [Example(t, CARE, s) for t, s in sourced(policy.care.example_sets)]
    out += [Example(t, ALLOWED, s) for t, s in sourced(policy.allowed.example_sets)]
    return out


def training_set(policy: Policy) -> tuple[list[str], list[str]]:
    """(texts, labels) of sourced_training_set."""
    rows = sourced_training_set(policy)
    return [r.text for r in rows], [r.label for r in rows]
