"""``crossrank bench`` on an LLM reranker with Qwen3-Reranker-0.6B's configuration and random weights.

    python benchmarks/llm_reranker.py [DATA_DIR] [crossrank bench options, e.g. --out F --k 20]

Speed does not depend on the weights, so this builds a model with the real Qwen3-Reranker-0.6B configuration
(28 layers, hidden 1024, 16 heads / 8 KV heads, vocabulary 151,669, tied embeddings), random weights and the
test suite's Qwen3 tokenizer, in a folder named like the hub repo (so the ``qwen3-reranker`` family is
detected), then runs ``crossrank bench DATA_DIR --model FOLDER --max-length 320`` on it: the model card's
recipe, the full LM head and crossrank, in bf16 and fp32, on 20 and 100 SciFact passages. The test
tokenizer splits words finer than Qwen's, so pairs are cut at 320 tokens (about 250 of passage after the
prompt), near what Qwen's tokenizer makes of a SciFact abstract. DATA_DIR defaults to ``$CROSSRANK_SCIFACT``.
With the real weights (online), the same figures come from ``crossrank bench DATA_DIR --model
Qwen/Qwen3-Reranker-0.6B``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from model_zoo import build_qwen3_causal_lm  # noqa: E402  (the tests' Qwen3 tokenizer and chat tokens)

QWEN3_RERANKER_0_6B = {
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 151669,
    "max_position_embeddings": 40960,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}
"""The published configuration of Qwen/Qwen3-Reranker-0.6B (its config.json)."""
MAX_LENGTH = "320"


def build_model(folder: Path) -> str:
    """A random Qwen3-Reranker-0.6B in ``folder/Qwen3-Reranker-0.6B`` (bf16 on disk)."""
    import torch
    from transformers import AutoConfig, Qwen3Config, Qwen3ForCausalLM

    path = build_qwen3_causal_lm(folder / "Qwen3-Reranker-0.6B")
    tiny = AutoConfig.from_pretrained(path).to_dict()
    tiny.pop("layer_types", None)  # derived from the layer count
    config = Qwen3Config(**(tiny | QWEN3_RERANKER_0_6B))
    torch.manual_seed(0)
    Qwen3ForCausalLM(config).to(torch.bfloat16).save_pretrained(str(path))
    return str(path)


def main(argv: list[str]) -> int:
    """Build the model, then run ``crossrank bench`` on it with ``argv``'s data folder and options."""
    data_dir, options = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else (None, argv)
    data_dir = data_dir or os.environ.get("CROSSRANK_SCIFACT")
    if not data_dir:
        print("Give DATA_DIR or set CROSSRANK_SCIFACT to a BEIR folder (SciFact).", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="crossrank-llm-bench-") as folder:
        model = build_model(Path(folder))
        command = [sys.executable, "-m", "crossrank_cli", "bench", data_dir, "--model", model]
        return subprocess.call([*command, "--max-length", MAX_LENGTH, *options])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
