"""LLM reranker speed on this CPU: Qwen3-Reranker-0.6B's configuration, random weights, three ways to read a score.

    python benchmarks/llm_reranker.py [--passages 20 --passages 100] [--precision fp32 --precision bf16] [--out F]

Speed does not depend on the weights, so a model with the real Qwen3-Reranker-0.6B configuration (28 layers,
hidden 1024, 16 heads / 8 KV heads, vocabulary 151,669, tied embeddings) is built with random weights and
the test suite's Qwen3 tokenizer. Every path scores the same prompts (crossrank's Qwen3-Reranker recipe,
about 320 tokens a pair) in batches of 32; per (passages, precision) the rows are:

- ``crossrank`` (``CrossEncoderScorer.score``): only the "yes" and "no" rows of the LM head, at each row's
  last real token (right padding);
- ``full head, last token``: the same, with the whole vocabulary's rows (what reading the score from full
  next-token logits costs when only the last position is computed);
- ``recipe (all positions)``: the model card's reference code, ``model(**inputs).logits[:, -1]`` on
  left-padded batches, which computes the vocabulary's logits at every position.

Ratios are against the recipe row of the same run. Model loading and one warm-up call are not timed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from model_zoo import build_qwen3_causal_lm  # noqa: E402  (the tests' Qwen3 tokenizer and chat tokens)

from rerank_core import CrossEncoderScorer  # noqa: E402
from rerank_core.backends.torch_heads import ScoringModule  # noqa: E402
from rerank_core.batching import length_sorted_batches  # noqa: E402
from rerank_core.cpu import cpu_info  # noqa: E402

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
WORDS = "zebrafish heart cells regenerate after injury protein gene study patients trial risk model data".split()
BATCH = 32


def build_model(folder: Path) -> str:
    """A random Qwen3-Reranker-0.6B in ``folder/Qwen3-Reranker-0.6B`` (bf16 on disk)."""
    from transformers import AutoConfig, Qwen3Config, Qwen3ForCausalLM

    path = build_qwen3_causal_lm(folder / "Qwen3-Reranker-0.6B")
    tiny = AutoConfig.from_pretrained(path).to_dict()
    tiny.pop("layer_types", None)  # derived from the layer count
    config = Qwen3Config(**(tiny | QWEN3_RERANKER_0_6B))
    torch.manual_seed(0)
    Qwen3ForCausalLM(config).to(torch.bfloat16).save_pretrained(str(path))
    return str(path)


def passages(count: int) -> list[str]:
    """``count`` distinct passages of 100 words (about 320 tokens a pair with the prompt)."""
    return [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(100)) for i in range(count)]


def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(path: str, precision: str, texts: list[str], query: str) -> dict[str, Any]:
    """Seconds for the three paths over ``texts``, after one warm-up call each."""
    scorer = CrossEncoderScorer(path, precision=precision, batch_size=BATCH).load()
    backend, encoder = scorer._loaded_model()
    encodings = encoder.encode(query, texts, "truncate").encodings
    tokens = float(np.mean([len(e) for e in encodings]))
    hf = backend.module.model
    full = ScoringModule(hf, backend.family, backend.input_names, range(hf.config.vocab_size)).eval()
    pad = backend.pad_token_id

    @torch.inference_mode()
    def full_head() -> None:
        for rows in length_sorted_batches(encodings, BATCH):
            batch = _right_padded([encodings[i].ids for i in rows], pad)
            full(*batch)

    @torch.inference_mode()
    def recipe() -> None:
        for rows in length_sorted_batches(encodings, BATCH):
            ids, mask = _left_padded([encodings[i].ids for i in rows], pad)
            hf(input_ids=ids, attention_mask=mask, use_cache=False).logits[:, -1]

    scorer.score(query, texts[:BATCH])
    full_head()
    recipe()
    seconds = {
        "crossrank": timed(lambda: scorer.score(query, texts)),
        "full head, last token": timed(full_head),
        "recipe (all positions)": timed(recipe),
    }
    return {"precision_used": scorer.precision_used, "mean_tokens": tokens, "seconds": seconds}


def _right_padded(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def _left_padded(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :] = torch.tensor(r)
        mask[i, width - len(r) :] = 1
    return ids, mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, action="append", help="passages per query (repeatable; 20, 100)")
    parser.add_argument("--precision", action="append", choices=["fp32", "bf16"], help="repeatable; fp32, bf16")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    counts, precisions = args.passages or [20, 100], args.precision or ["fp32", "bf16"]
    cpu = cpu_info()
    print(f"CPU: {cpu.model} ({cpu.logical_cores} logical cores); torch threads {torch.get_num_threads()}")
    print("flags: " + ", ".join(f"{name} {'yes' if on else 'no'}" for name, on in cpu.flags.items()))
    results = []
    with tempfile.TemporaryDirectory(prefix="crossrank-llm-bench-") as folder:
        path = build_model(Path(folder))
        query = "what makes zebrafish heart cells regenerate after injury"
        for precision in precisions:
            for count in counts:
                row = measure(path, precision, passages(count), query)
                row |= {"passages": count, "precision": precision}
                results.append(row)
                recipe = row["seconds"]["recipe (all positions)"]
                ran = f"ran as {row['precision_used']}, {row['mean_tokens']:.0f} tokens a pair"
                print(f"\n{count} passages, {precision} ({ran})")
                for name, seconds in row["seconds"].items():
                    print(f"  {name:24s} {count / seconds:7.2f} passages/s   x recipe {recipe / seconds:5.2f}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"machine": cpu.to_json(), "config": QWEN3_RERANKER_0_6B, "batch_size": BATCH, "rows": results}
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\nResults written to {args.out}")


if __name__ == "__main__":
    main()
