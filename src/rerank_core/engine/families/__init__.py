"""Model families: which input recipe and score a checkpoint follows, detected from its files or named.

A family is one :class:`ModelFamily` value in one small module; :data:`FAMILIES` lists them all. Detection
reads the checkpoint's ``config.json`` (``architectures``, ``model_type``) and its hub id or folder name (a
folder named like the hub repo, ``.../Qwen3-Reranker-0.6B``, is that family); ``family=`` names one instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from rerank_core.engine.families.base import ModelFamily, PromptTemplate
from rerank_core.engine.families.bge_reranker_gemma import BGE_RERANKER_GEMMA
from rerank_core.engine.families.bge_reranker_gemma import NAME as BGE_GEMMA_NAME
from rerank_core.engine.families.mxbai_rerank_v2 import MXBAI_RERANK_V2
from rerank_core.engine.families.mxbai_rerank_v2 import NAME as MXBAI_NAME
from rerank_core.engine.families.qwen3_reranker import NAME as QWEN3_NAME
from rerank_core.engine.families.qwen3_reranker import QWEN3_RERANKER
from rerank_core.errors import InvalidArgumentError, ModelLoadError

CROSS_ENCODER = ModelFamily(
    name="cross-encoder",
    head="classifier",
    description="encoder classifier (BERT, XLM-R, RoBERTa, DeBERTa, ELECTRA, ModernBERT); the tokenizer's pair "
    "template; one logit: sigmoid, two labels: softmax of label 1",
)
DECODER_CLASSIFIER = ModelFamily(
    name="decoder-classifier",
    head="last-token-classifier",
    description="decoder classifier (Qwen2/3, Llama, Gemma, Mistral ...ForSequenceClassification); the pair "
    "template; the classifier at the last real token",
)
PROMPT_FAMILIES: tuple[tuple[Any, ModelFamily], ...] = (
    (QWEN3_NAME, QWEN3_RERANKER),
    (MXBAI_NAME, MXBAI_RERANK_V2),
    (BGE_GEMMA_NAME, BGE_RERANKER_GEMMA),
)
"""LLM rerankers: the name pattern that identifies each, and its recipe."""
FAMILIES: dict[str, ModelFamily] = {
    family.name: family for family in (CROSS_ENCODER, DECODER_CLASSIFIER, *(f for _, f in PROMPT_FAMILIES))
}
"""Every family by name: the values of ``family=``."""

_DECODER_TYPES = frozenset(
    {"gemma", "gemma2", "gemma3", "gemma3_text", "llama", "mistral", "mixtral", "phi", "phi3", "qwen2", "qwen3"}
)


def detect_family(model_name_or_path: str, config: Mapping[str, Any], family: str | None = None) -> ModelFamily:
    """The family of a checkpoint, from its config and name, or the one ``family`` names.

    Raises:
        InvalidArgumentError: ``family`` names no family.
        ModelLoadError: the checkpoint is neither a sequence classifier nor a causal LM of a known recipe.
    """
    architecture = _architecture(config)
    causal = architecture.endswith("ForCausalLM")
    if family is not None:
        if family not in FAMILIES:
            raise InvalidArgumentError(f"Unknown family {family!r}; choose one of {', '.join(FAMILIES)}.")
        return _for_architecture(FAMILIES[family], causal)
    named = next((f for pattern, f in PROMPT_FAMILIES if pattern.search(_short_name(model_name_or_path))), None)
    if causal:
        if named is None:
            raise ModelLoadError(
                f"{model_name_or_path!r} is a causal language model ({architecture}) of no reranking recipe crossrank "
                f"knows. Name one with family= ({', '.join(f.name for _, f in PROMPT_FAMILIES)}), or use a "
                "sequence-classification checkpoint."
            )
        return named
    if not architecture.endswith("ForSequenceClassification"):
        raise ModelLoadError(
            f"{model_name_or_path!r} is a {architecture or 'model with no architectures in its config.json'}, "
            "not a reranker: a cross-encoder has a sequence-classification head (…ForSequenceClassification) or "
            "is a causal-LM reranker. Its head would be random; use a reranking checkpoint, or pass "
            "family='cross-encoder' if its config is incomplete."
        )
    if named is not None:  # a sequence-classification conversion of an LLM reranker reads its prompt
        return _for_architecture(named, causal=False)
    return DECODER_CLASSIFIER if _is_decoder(config) else CROSS_ENCODER


def _for_architecture(family: ModelFamily, causal: bool) -> ModelFamily:
    """``family`` as it runs on this architecture: a prompt family's classifier conversion pools at the last token."""
    if causal and family.head != "token-logits":
        raise ModelLoadError(f"family={family.name!r} needs a sequence-classification checkpoint, not a causal LM.")
    if not causal and family.head == "token-logits":
        return dataclasses.replace(family, head="last-token-classifier", score_tokens=())
    return family


def _architecture(config: Mapping[str, Any]) -> str:
    architectures = config.get("architectures") or []
    return str(architectures[0]) if architectures else ""


def _is_decoder(config: Mapping[str, Any]) -> bool:
    """Decoder models pool at the last token; encoders pool themselves (a first token or a mean)."""
    return config.get("model_type") in _DECODER_TYPES or (
        "num_key_value_heads" in config and config.get("model_type") != "modernbert"
    )


def _short_name(model_name_or_path: str) -> str:
    """The last part of a hub id or folder path (where the family's name shows)."""
    return PurePath(model_name_or_path.rstrip("/\\")).name


__all__ = ["CROSS_ENCODER", "DECODER_CLASSIFIER", "FAMILIES", "ModelFamily", "PromptTemplate", "detect_family"]
