"""Build a tiny, randomly initialised Moshi checkpoint that moshi's own server runs on a CPU.

The weights are random, so the model's words are nonsense; what matters is that the server is
moshi's real code speaking its real protocol (REFERENCE.md §8): Mimi at 24 kHz and 12.5 frames/s,
the stream layout of the released model (16 codebooks, 8 generated), a SentencePiece text
vocabulary. Run with the moshi environment's Python (`make moshi-tiny`):

    python tools/moshi_tiny/build.py OUT_DIR

writes OUT_DIR/{config.json, mimi_config.json, model.safetensors, mimi.safetensors,
tokenizer.model}. Seeded: the same files every time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

TEXT_VOCAB = 64
MIMI = {
    "sample_rate": 24000, "channels": 1, "frame_rate": 12.5,
    "seanet": {"channels": 1, "dimension": 64, "causal": True, "n_filters": 8, "n_residual_layers": 1,
               "activation": "ELU", "compress": 2, "dilation_base": 2, "disable_norm_outer_blocks": 0,
               "kernel_size": 7, "residual_kernel_size": 3, "last_kernel_size": 3, "norm": "none",
               "pad_mode": "constant", "ratios": [8, 6, 5, 4], "true_skip": True},
    "quantizer": {"dimension": 32, "n_q": 8, "bins": 2048, "input_dimension": 64, "output_dimension": 64},
    "transformer": {"d_model": 64, "num_heads": 2, "num_layers": 1, "causal": True, "layer_scale": 0.01,
                    "context": 250, "conv_layout": True, "max_period": 10000, "gating": "none",
                    "norm": "layer_norm", "positional_embedding": "rope", "dim_feedforward": 128,
                    "input_dimension": 64, "output_dimensions": [64]},
}
LM = {
    "dim": 64, "text_card": TEXT_VOCAB, "existing_text_padding_id": 3, "n_q": 16, "dep_q": 8, "card": 2048,
    "num_heads": 2, "num_layers": 2, "hidden_scale": 2, "causal": True, "layer_scale": None, "context": 3000,
    "max_period": 10000, "gating": "silu", "norm": "rms_norm_f32", "positional_embedding": "rope",
    "depformer_dim": 32, "depformer_dim_feedforward": 64, "depformer_num_heads": 1, "depformer_num_layers": 1,
    "depformer_layer_scale": None, "depformer_multi_linear": True, "depformer_context": 8,
    "depformer_max_period": 10000, "depformer_gating": "silu", "depformer_pos_emb": "none",
    "depformer_weights_per_step": True, "delays": [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1],
}
CORPUS = """hello how can I help you today thank you for calling
your order number is on its way the return policy gives you thirty days
I can look that up for you one moment please is there anything else
yes no maybe sure of course good morning good afternoon goodbye"""


def build(out: Path) -> None:
    import sentencepiece as spm
    from moshi.models.loaders import get_mimi, get_moshi_lm

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    corpus = out / "corpus.txt"
    corpus.write_text("\n".join([CORPUS] * 20), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(out / "tokenizer"), vocab_size=TEXT_VOCAB,
                                   model_type="unigram", character_coverage=1.0, minloglevel=2)
    corpus.unlink()
    (out / "tokenizer.vocab").unlink(missing_ok=True)
    (out / "mimi_config.json").write_text(json.dumps(MIMI, indent=1), encoding="utf-8")
    mimi = get_mimi(None, MIMI, device="cpu", num_codebooks=8)
    save_file({k: v.contiguous() for k, v in mimi.state_dict().items()}, str(out / "mimi.safetensors"))
    lm = get_moshi_lm(None, lm_kwargs=LM, device="cpu", dtype=torch.float32)
    save_file({k: v.contiguous() for k, v in lm.state_dict().items()}, str(out / "model.safetensors"))
    config = dict(LM, mimi_config_name=f"file://{(out / 'mimi_config.json').resolve()}")
    (out / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")


if __name__ == "__main__":
    build(Path(sys.argv[1]))
