"""ONNX Runtime encoder for the packaged sentence-transformers model (BERT + mean pooling + L2 norm).

The model is exported once with ``torch.onnx.export`` (TorchScript exporter) into a cache folder, keyed by
a hash of the model folder's weights, and written atomically (temp file, then rename). Later processes
load the cached file with onnxruntime and the ``tokenizers`` fast tokenizer only: neither torch nor
sentence-transformers is imported on that path. Nothing here touches the network.

Vectors equal SentenceTransformer's (same tokenizer, max length, mean pooling, normalisation) within
~1e-6; every loaded file is checked against a probe vector recorded at export time, and a file that
fails to load or to match is rebuilt once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tokenizers import Tokenizer

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

#: Bump when the exported graph or the checks change: old cache files are then ignored.
EXPORT_VERSION = 1
OPSET = 17
PROBE_TEXT = "healthcoach ONNX probe: Hemoglobin A1c 5.4 % on 2025-03-22."
PROBE_TOL = 1e-4
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_export_lock = threading.Lock()


class OnnxUnavailableError(RuntimeError):
    """The ONNX backend cannot be used for this model or environment (the caller may fall back to torch)."""


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "healthcoach" / "onnx"


def weights_fingerprint(model_dir: Path) -> str:
    """sha256 over the model's weights and config, the export version and the opset."""
    h = hashlib.sha256(f"healthcoach-onnx-v{EXPORT_VERSION}-opset{OPSET}".encode())
    weights = [model_dir / n for n in _WEIGHT_FILES if (model_dir / n).is_file()]
    if not weights:
        raise OnnxUnavailableError(f"no weights ({' or '.join(_WEIGHT_FILES)}) in {model_dir}")
    for f in [*weights[:1], model_dir / "config.json"]:
        h.update(f.name.encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def cached_model_file(model_dir: Path, cache_dir: Path) -> Path:
    return cache_dir / f"{model_dir.name}-{weights_fingerprint(model_dir)[:24]}.onnx"


def _meta_file(onnx_file: Path) -> Path:
    return onnx_file.with_suffix(".json")


def _atomic_write_bytes(dest: Path, data: bytes) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------- config


class _ModelConfig:
    """What SentenceTransformer would do with this folder, read from its JSON files."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        sbert = _read_json(model_dir / "sentence_bert_config.json")
        self.max_seq_length = int(sbert.get("max_seq_length") or 512)
        self.do_lower_case = bool(sbert.get("do_lower_case", False))
        modules = _read_json(model_dir / "modules.json", default=[])
        pooling_dirs = [m.get("path", "") for m in modules if str(m.get("type", "")).endswith(".Pooling")]
        pooling = _read_json(model_dir / (pooling_dirs[0] if pooling_dirs else "1_Pooling") / "config.json")
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True}
        if modes != {"pooling_mode_mean_tokens"}:
            raise OnnxUnavailableError(
                f"the ONNX backend does mean pooling only; {model_dir} asks for {modes}"
            )
        other = [
            m.get("type")
            for m in modules
            if not str(m.get("type", "")).endswith((".Transformer", ".Pooling", ".Normalize"))
        ]
        if other:
            raise OnnxUnavailableError(f"the ONNX backend does not support the modules {other}")
        if not (model_dir / "tokenizer.json").is_file():
            raise OnnxUnavailableError(f"no fast tokenizer (tokenizer.json) in {model_dir}")
        cfg = _read_json(model_dir / "config.json")
        if cfg.get("model_type") != "bert":
            raise OnnxUnavailableError(
                f"the ONNX export is tested with BERT only, not {cfg.get('model_type')}"
            )
        self.max_seq_length = min(self.max_seq_length, int(cfg.get("max_position_embeddings", 512)))


def _read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if default is not None:
            return default
        raise OnnxUnavailableError(f"missing {path}") from None


def _load_tokenizer(cfg: _ModelConfig) -> Any:
    tok = Tokenizer.from_file(str(cfg.model_dir / "tokenizer.json"))
    tok.no_padding()  # padded per batch, after sorting by length
    tok.enable_truncation(max_length=cfg.max_seq_length)
    return tok


def _mean_pool_normalise(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    m = mask[..., None].astype(np.float32)
    summed = (hidden * m).sum(axis=1)
    counts = np.clip(m.sum(axis=1), 1e-9, None)
    mean = summed / counts
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    out: NDArray[np.float32] = (mean / np.clip(norms, 1e-12, None)).astype(np.float32)
    return out


# --------------------------------------------------------------------------------------------- export


@contextlib.contextmanager
def _tolerate_missing_onnx_package() -> Iterator[None]:
    """Let torch's TorchScript exporter run without the ``onnx`` package.

    torch 2.13's exporter imports ``onnx`` unconditionally in one step only, ``_add_onnxscript_fn``, which
    splices onnxscript functions for *custom-domain* ops into the model. A BERT graph has none (standard
    ONNX ops only), so for it the step is the identity. Without ``onnx`` installed, that step is swapped
    for a pass-through that refuses graphs with custom opsets. The result is validated by onnxruntime and
    the probe vector in any case.
    """
    try:
        import onnx  # noqa: F401  # optional dependency: only torch's exporter wants it
    except ImportError:
        pass
    else:
        yield
        return
    try:
        from torch.onnx._internal.torchscript_exporter import onnx_proto_utils  # lazy: start-up time (torch)
    except ImportError as exc:  # a torch without this private module: let the caller fall back
        raise OnnxUnavailableError("torch.onnx export needs the onnx package with this torch") from exc
    original = onnx_proto_utils._add_onnxscript_fn

    def passthrough(model_bytes: bytes, custom_opsets: Any) -> bytes:
        if custom_opsets:
            raise OnnxUnavailableError("custom opsets need the onnx package to export")
        return model_bytes

    onnx_proto_utils._add_onnxscript_fn = passthrough
    try:
        yield
    finally:
        onnx_proto_utils._add_onnxscript_fn = original


def export_onnx(model_dir: Path, dest: Path) -> None:
    """Export the model's transformer (last_hidden_state) to dest, atomically, plus a probe sidecar."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    cfg = _ModelConfig(model_dir)
    # lazy: start-up time. torch and transformers are imported only to export the model, once per machine.
    import torch
    from transformers import AutoModel  # lazy: start-up time (export only)

    with contextlib.suppress(Exception):
        from transformers.utils import logging as hf_logging  # lazy: start-up time (export only)

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    # Eager attention and a ready-made 4-D additive mask: transformers' mask helpers and SDPA take
    # data-dependent Python branches that a trace would freeze into the graph.
    base = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    base.eval()

    class _Wrapper(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            neg = torch.finfo(torch.float32).min
            ext = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * neg
            out = self.model(
                input_ids=input_ids, attention_mask=ext, token_type_ids=token_type_ids, return_dict=True
            )
            return out.last_hidden_state

    wrapper = _Wrapper(base).eval()
    # A padded dummy batch, so nothing about "no padding" can be baked in.
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 9:] = 0
    types = torch.zeros((2, 16), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        _export_to(wrapper, (ids, mask, types), names, tmp)
        wrapper.eval()  # export restores the wrapper's (training) mode
        # The reference vector for the probe, from torch, with the same tokenizer and pooling.
        enc = _load_tokenizer(cfg).encode(_prep(PROBE_TEXT, cfg))
        with torch.no_grad():
            hidden = wrapper(
                torch.tensor([enc.ids]), torch.tensor([enc.attention_mask]), torch.tensor([enc.type_ids])
            ).numpy()
        probe = _mean_pool_normalise(hidden, np.array([enc.attention_mask]))[0]
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)  # atomic: readers see no file or a whole one
    finally:
        tmp.unlink(missing_ok=True)
    meta = {
        "export_version": EXPORT_VERSION,
        "opset": OPSET,
        "torch": torch.__version__,
        "probe": probe.tolist(),
    }
    _atomic_write_bytes(_meta_file(dest), json.dumps(meta).encode())


def _export_to(wrapper: Any, args: tuple[Any, ...], names: list[str], path: Path) -> None:
    import torch  # lazy: start-up time (export only)

    with _export_lock, _tolerate_missing_onnx_package(), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            args,
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _prep(text: str, cfg: _ModelConfig) -> str:
    return text.lower() if cfg.do_lower_case else text


# --------------------------------------------------------------------------------------------- encoder


class OnnxEncoder:
    """Thread-safe encoder: texts -> (n, dim) float32, mean-pooled and L2-normalised."""

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path | None = None,
        *,
        threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        try:
            import onnxruntime  # noqa: F401  # optional dependency: without it the embedder falls back to torch
        except ImportError as exc:
            raise OnnxUnavailableError("onnxruntime is not installed") from exc
        self.cfg = _ModelConfig(model_dir)
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self.tokenizer = _load_tokenizer(self.cfg)
        self.onnx_file = cached_model_file(model_dir, cache_dir or default_cache_dir())
        self._lock = threading.Lock()
        self._session = self._open_or_build()
        self.dim = int(self._run_batch(["probe"]).shape[1])

    # -- loading

    def _open_or_build(self) -> Any:
        f = self.onnx_file
        if f.is_file():
            try:
                return self._open_checked(f)
            except Exception as exc:
                warnings.warn(
                    f"cached ONNX model {f} is unusable ({type(exc).__name__}: {exc}); rebuilding it",
                    RuntimeWarning,
                    stacklevel=4,
                )
                for stale in (f, _meta_file(f)):
                    stale.unlink(missing_ok=True)
        log.info("exporting %s to ONNX at %s (once)", self.cfg.model_dir, f)
        try:
            export_onnx(self.cfg.model_dir, f)
        except OnnxUnavailableError:
            raise
        except Exception as exc:
            raise OnnxUnavailableError(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc
        try:
            return self._open_checked(f)
        except Exception as exc:
            raise OnnxUnavailableError(f"freshly exported ONNX model is unusable: {exc}") from exc

    def _open_checked(self, f: Path) -> Any:
        import onnxruntime as ort  # optional dependency: without it the embedder falls back to torch

        meta = json.loads(_meta_file(f).read_text(encoding="utf-8"))
        if meta.get("export_version") != EXPORT_VERSION:
            raise ValueError(f"export version {meta.get('export_version')} != {EXPORT_VERSION}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        session = ort.InferenceSession(str(f), sess_options=opts, providers=["CPUExecutionProvider"])
        self._session = session
        got = self._run_batch([PROBE_TEXT])[0]
        want = np.asarray(meta["probe"], dtype=np.float32)
        if got.shape != want.shape or float(np.abs(got - want).max()) > PROBE_TOL:
            raise ValueError("probe vector does not match the one recorded at export")
        return session

    # -- encoding

    def _run_batch(self, texts: list[str]) -> NDArray[np.float32]:
        encs = self.tokenizer.encode_batch([_prep(t, self.cfg) for t in texts])
        return self._run_encodings(encs)

    def _run_encodings(self, encs: list[Any]) -> NDArray[np.float32]:
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros((len(encs), width), dtype=np.int64)
        types = np.zeros((len(encs), width), dtype=np.int64)
        for i, e in enumerate(encs):
            n = len(e.ids)
            ids[i, :n] = e.ids
            mask[i, :n] = e.attention_mask
            types[i, :n] = e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        with self._lock:
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
        return _mean_pool_normalise(hidden, mask)

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encs = self.tokenizer.encode_batch([_prep(str(t), self.cfg) for t in texts])
        order = np.argsort([len(e.ids) for e in encs], kind="stable")  # sort by length: least padding
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Batches are bounded by size and by padded tokens: attention memory grows with
        # batch x length², so 64 notes of 256 tokens would need ~400 MB; sentences of ~30 tokens still
        # go about 64 at a time.
        budget = self.batch_size * 32
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and end - start < self.batch_size and \
                    (end - start + 1) * len(encs[order[end]].ids) <= budget:
                end += 1
            idx = order[start:end]
            out[idx] = self._run_encodings([encs[i] for i in idx])
            start = end
        return out
