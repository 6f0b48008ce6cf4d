"""Embedder backends on the real packaged all-MiniLM-L6-v2: ONNX Runtime (cached export) vs torch."""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from healthcoach.errors import ConfigError
from healthcoach.settings import EmbeddingSettings
from healthcoach.store.embeddings import DIM, Embedder, packaged_model_path
from healthcoach.store.onnx_encoder import cached_model_file

LONG_NOTE = (
    "Progress note. Patient reports improved sleep since reducing evening screen time; walks 30 minutes "
    "most days. Fasting glucose 96 mg/dL, HbA1c 5.4 %, LDL 118 mg/dL, HDL 52 mg/dL, triglycerides 140 mg/dL. "
    "Blood pressure 128/82 mmHg seated, repeat 124/80. Discussed Mediterranean-style diet, fibre intake, "
    "alcohol limits and a follow-up lipid panel in six months. "
) * 6  # ~2,000 characters: well past 256 tokens, so it is truncated

TEXTS: list[str] = [
    "2025-03-22: Hemoglobin A1c was 5.4 % (lab result, status final). Source: Riverside Family Medicine (FHIR export).",
    "2024-11-02: LDL cholesterol was 118 mg/dL (lab result, status final).",
    "Resting heart rate averaged 58 bpm over the last 30 days.",
    "Steps: 8,412 on 2025-01-15 (Apple Health).",
    "Sleep 7 h 12 min, deep 1 h 05 min, REM 1 h 40 min.",
    "Medication: atorvastatin 20 mg tablet, once daily (active).",
    "Allergy: penicillin — hives (high criticality).",
    "Condition: essential hypertension (onset 2019-06-01, active).",
    "Immunization: influenza vaccine, 2024-10-03.",
    "Procedure: colonoscopy 2023-05-20, no polyps.",
    "How has my blood pressure changed this year?",
    "what was my last a1c",
    "Is my cholesterol OK?",
    "Show my vitamin D results",
    "did I sleep better in march than in february",
    "",
    " ",
    "   leading and trailing whitespace   ",
    "\ttabs\nand\nnewlines\t",
    "UPPER CASE TEXT ABOUT GLUCOSE",
    "Ünïcödé àccents: café, naïve, Zürich",
    "血糖值 5.6 mmol/L",
    "Emoji 😀🏃‍♀️ after a run",
    "Numbers only: 120 80 72 98.6 37.0",
    "mg/dL mmol/L µg/L IU/mL",
    "a",
    "The",
    "x" * 300,
    "word " * 400,
    LONG_NOTE,
    "Body weight 82.4 kg, BMI 26.1 kg/m2 (vital signs).",
    "Oxygen saturation 97 % at rest.",
    "Temperature 36.8 °C.",
    "Respiratory rate 14 breaths/min.",
    "Glucose 5.3 mmol/L fasting; repeat 5.1 mmol/L.",
    "Creatinine 0.9 mg/dL, eGFR > 90 mL/min/1.73m2.",
    "TSH 2.1 mIU/L (normal range 0.4–4.0).",
    "Ferritin 45 ng/mL.",
    "Vitamin B12 410 pg/mL.",
    "HRV (RMSSD) 42 ms average this week.",
    "VO2 max estimate 41 mL/kg/min.",
    "Workout: cycling 45 min, 18.2 km, avg HR 141 bpm.",
    "Note: patient declines statin, prefers lifestyle changes first.",
    "Family history: father with type 2 diabetes.",
    "Smoking status: never smoker.",
    "Alcohol: 3-4 drinks per week.",
    "Follow-up in 3 months with repeat lipid panel.",
    "<b>HTML</b> &amp; entities &lt;tag&gt;",
    '{"json": "payload", "value": 42}',
    "Mixed\u00a0non-breaking\u2009spaces and zero\u200bwidth",
]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx_embedder(onnx_dir: Path) -> Embedder:
    e = Embedder(backend="onnx", onnx_dir=onnx_dir)
    e.encode(["warm up"])
    assert e.backend == "onnx"
    return e


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    e = Embedder(backend="torch")
    e.encode(["warm up"])
    assert e.backend == "torch"
    return e


def test_long_note_is_truncated_at_256(onnx_embedder: Embedder, torch_embedder: Embedder) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(packaged_model_path() / "tokenizer.json"))
    tok.no_truncation()  # tokenizer.json itself says 128; sentence_bert_config.json says 256
    assert 1900 <= len(LONG_NOTE) <= 2200
    assert len(tok.encode(LONG_NOTE).ids) > 256
    assert torch_embedder._model.max_seq_length == 256
    assert len(onnx_embedder._onnx.tokenizer.encode(LONG_NOTE).ids) == 256
    a = onnx_embedder.encode([LONG_NOTE])
    assert float(np.abs(a - torch_embedder.encode([LONG_NOTE])).max()) < 1e-4


def test_onnx_equals_torch(onnx_embedder: Embedder, torch_embedder: Embedder) -> None:
    assert len(TEXTS) >= 50
    a = onnx_embedder.encode(TEXTS)
    b = torch_embedder.encode(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), DIM)
    assert a.dtype == b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert float(np.abs(a - b).max()) < 1e-4
    # And with a batch size that splits the call into several padded batches.
    small = Embedder(EmbeddingSettings(batch_size=7), backend="onnx", onnx_dir=onnx_embedder._onnx_dir)
    assert float(np.abs(small.encode(TEXTS) - b).max()) < 1e-4


def test_order_preserved(onnx_embedder: Embedder) -> None:
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(TEXTS))
    full = onnx_embedder.encode(TEXTS)
    shuffled = onnx_embedder.encode([TEXTS[i] for i in perm])
    np.testing.assert_allclose(shuffled, full[perm], atol=1e-5)
    one_by_one = np.stack([onnx_embedder.encode([t])[0] for t in TEXTS[:12]])
    np.testing.assert_allclose(one_by_one, full[:12], atol=1e-5)
    # Different texts give different vectors: rows were not mixed up.
    assert float(full[0] @ full[2]) < 0.99


def test_empty_input(onnx_embedder: Embedder, torch_embedder: Embedder) -> None:
    for e in (onnx_embedder, torch_embedder):
        out = e.encode([])
        assert out.shape == (0, DIM) and out.dtype == np.float32
        assert e.embed_documents([]) == []


def test_langchain_interface(onnx_embedder: Embedder) -> None:
    q = onnx_embedder.embed_query("what was my last a1c")
    docs = onnx_embedder.embed_documents(["what was my last a1c", "Steps: 8,412"])
    assert len(q) == DIM and len(docs) == 2
    assert np.allclose(q, docs[0], atol=1e-5)


def test_export_is_cached(onnx_embedder: Embedder, onnx_dir: Path) -> None:
    f = cached_model_file(packaged_model_path(), onnx_dir)
    assert f.is_file() and f.with_suffix(".json").is_file()
    before = {p.name: p.stat().st_mtime_ns for p in onnx_dir.iterdir()}
    assert not [n for n in before if n.endswith(".tmp")]
    again = Embedder(backend="auto", onnx_dir=onnx_dir)
    vec = again.encode(["reuse the cached export"])
    assert again.backend == "onnx" and vec.shape == (1, DIM)
    assert {p.name: p.stat().st_mtime_ns for p in onnx_dir.iterdir()} == before


def test_torch_backend_forced(torch_embedder: Embedder) -> None:
    out = torch_embedder.encode(["Resting heart rate averaged 58 bpm."])
    assert torch_embedder.backend == "torch" and torch_embedder._onnx is None
    assert out.shape == (1, DIM)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_cache_is_rebuilt(
    onnx_embedder: Embedder, onnx_dir: Path, tmp_path: Path, torch_embedder: Embedder, damage: str
) -> None:
    src = cached_model_file(packaged_model_path(), onnx_dir)
    dst = cached_model_file(packaged_model_path(), tmp_path)
    shutil.copy2(src.with_suffix(".json"), dst.with_suffix(".json"))
    if damage == "garbage":
        dst.write_bytes(b"this is not an onnx model")
    else:
        dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.warns(RuntimeWarning, match="unusable"):
        e = Embedder(backend="auto", onnx_dir=tmp_path)
        out = e.encode(TEXTS[:5])
    assert e.backend == "onnx"
    assert dst.stat().st_size == src.stat().st_size
    assert float(np.abs(out - torch_embedder.encode(TEXTS[:5])).max()) < 1e-4


def test_no_onnxruntime_falls_back_to_torch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, torch_embedder: Embedder
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    with pytest.warns(RuntimeWarning, match="using torch"):
        e = Embedder(backend="auto", onnx_dir=tmp_path)
        out = e.encode(TEXTS[:3])
    assert e.backend == "torch"
    np.testing.assert_allclose(out, torch_embedder.encode(TEXTS[:3]), atol=1e-6)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ConfigError, match="onnx"):
        Embedder(backend="onnx", onnx_dir=tmp_path).encode(["x"])


def test_thread_safe_encode(onnx_embedder: Embedder) -> None:
    want = onnx_embedder.encode(TEXTS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: onnx_embedder.encode(TEXTS), range(8)))
    for got in results:
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_settings_fields(onnx_dir: Path) -> None:
    fields = EmbeddingSettings.model_fields
    if "backend" not in fields or "onnx_dir" not in fields:
        pytest.skip("EmbeddingSettings.backend/onnx_dir not added yet")
    s = EmbeddingSettings(backend="onnx", onnx_dir=onnx_dir)  # type: ignore[call-arg]
    e = Embedder(s)
    e.encode(["x"])
    assert e.backend == "onnx"
    t = Embedder(EmbeddingSettings(backend="torch"))  # type: ignore[call-arg]
    t.encode(["x"])
    assert t.backend == "torch"


def test_unknown_backend_rejected() -> None:
    with pytest.raises(ConfigError):
        Embedder(backend="tensorflow")  # type: ignore[arg-type]


def test_offline_env_after_load(onnx_embedder: Embedder) -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        onnx_embedder.encode(["no warnings on the hot path"])
