"""Precision: what ``auto`` picks for each CPU and device, explicit choices, and the torch backend's casts."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from rerank_core import CrossEncoderScorer, InvalidArgumentError
from rerank_core.backends.cpu import CPU_FLAGS, CpuInfo, this_cpu
from rerank_core.backends.precision import resolve_precision

QUERY = "zebrafish cancer risk"
TEXTS = ["zebrafish cells show cancer risk", "red blue green", "patients at risk " * 20, ""]


def _cpu(*flags: str) -> CpuInfo:
    return CpuInfo(model="test", logical_cores=4, flags={flag: flag in flags for flag in CPU_FLAGS})


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("avx2", "avx512f", "amx_tile", "amx_bf16"), "bf16"),
        (("avx2", "avx512f", "avx512_bf16"), "bf16"),
        (("avx2", "avx512f", "avx512_vnni"), "fp32"),
        (("avx2",), "fp32"),
        ((), "fp32"),
    ],
)
def test_auto_on_cpu_follows_the_bf16_instructions(flags, expected):
    chosen, reason = resolve_precision("auto", backend="torch", device="cpu", cpu=_cpu(*flags))
    assert chosen == expected
    assert reason.startswith("auto")


def test_auto_is_fp16_on_cuda_and_fp32_on_onnx():
    assert resolve_precision("auto", backend="torch", device="cuda:1")[0] == "fp16"
    assert resolve_precision("auto", backend="onnx", device="cpu", cpu=_cpu("amx_bf16"))[0] == "fp32"


@pytest.mark.parametrize(
    ("precision", "backend", "device", "hint"),
    [
        ("int8", "torch", "cpu", "backend='onnx'"),
        ("fp16", "torch", "cpu", "'bf16'"),
        ("bf16", "onnx", "cpu", "'int8'"),
        ("int8", "onnx", "cuda", "'fp32'"),
    ],
)
def test_unsupported_combinations_name_the_alternatives(precision, backend, device, hint):
    with pytest.raises(InvalidArgumentError, match=hint):
        resolve_precision(precision, backend=backend, device=device)


def test_unknown_precision_is_refused():
    with pytest.raises(InvalidArgumentError, match="precision must be one of"):
        CrossEncoderScorer("some/model", precision="fp8")


def test_bf16_scores_stay_close_to_fp32_and_come_back_as_float32(tiny_model_dir):
    bf16 = CrossEncoderScorer(tiny_model_dir, precision="bf16", device="cpu")
    fp32 = CrossEncoderScorer(tiny_model_dir, precision="fp32", device="cpu")
    short = [text for text in TEXTS if len(text) < 40]  # a random tiny model drifts on long inputs in bf16;
    low, full = bf16.score(QUERY, short), fp32.score(QUERY, short)  # the real model is checked in integration
    assert (bf16.precision_used, fp32.precision_used) == ("bf16", "fp32")
    assert low.dtype == np.float32
    np.testing.assert_allclose(low, full, atol=0.02)


def test_auto_resolves_for_this_cpu_and_is_logged_once(tiny_model_dir, caplog):
    scorer = CrossEncoderScorer(tiny_model_dir, device="cpu", cache_size=0)
    assert scorer.precision_used is None and scorer.device_used is None
    with caplog.at_level(logging.INFO, logger="rerank_core"):
        scorer.score(QUERY, TEXTS)
        scorer.score(QUERY, TEXTS)
    assert scorer.precision_used == ("bf16" if this_cpu().fast_bf16 else "fp32")
    assert scorer.device_used == "cpu"
    loads = [r.getMessage() for r in caplog.records if "Loaded" in r.getMessage()]
    assert len(loads) == 1 and f"torch {scorer.precision_used}, auto" in loads[0]


def test_a_dtype_in_model_kwargs_is_kept_under_auto_and_conflicts_with_an_explicit_precision(tiny_model_dir):
    scorer = CrossEncoderScorer(tiny_model_dir, model_kwargs={"dtype": torch.float16}, device="cpu").load()
    assert scorer.precision_used == "fp16"
    clash = CrossEncoderScorer(tiny_model_dir, precision="bf16", model_kwargs={"dtype": torch.float16})
    with pytest.raises(InvalidArgumentError, match="give only one"):
        clash.load()
    assert not clash.loaded


def test_threads_belong_to_the_onnx_backend(tiny_model_dir):
    with pytest.raises(InvalidArgumentError, match="torch.set_num_threads"):
        CrossEncoderScorer(tiny_model_dir, threads=2).load()


def test_the_token_limit_in_use_is_reported_once_loaded(tiny_model_dir):
    own, capped = CrossEncoderScorer(tiny_model_dir), CrossEncoderScorer(tiny_model_dir, max_length=40)
    assert own.max_length_used is None and capped.max_length_used is None
    assert (own.load().max_length_used, capped.load().max_length_used) == (128, 40)  # the tokenizer's 128
