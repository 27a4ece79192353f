"""mxbai-rerank-v2 (``mixedbread-ai/mxbai-rerank-base-v2`` / ``-large-v2``): a Qwen2 causal LM asked "1" or "0".

The recipe is the authors' package (github.com/mixedbread-ai/mxbai-rerank, ``mxbai_rerank/mxbai_rerank_v2.py``):
the Qwen2.5 chat prefix, ``query: {query}`` (``instruction: {instruction}\nquery: {query}`` when an
instruction is given; there is none by default), ``document: {document}`` and the task prompt, joined by
newlines and each tokenized alone, then the assistant suffix; the score is ``logit("1") - logit("0")`` at
the last token. ``activation="sigmoid"`` gives ``sigmoid`` of it, as vLLM does; ``activation="calibrated"``
gives the package's optional ``normalize=True`` calibration, ``sigmoid(score - estimated_max / 2)`` with
``estimated_max`` 9.0 for the base model and 12.0 otherwise; rankings are the same either way.
"""

from __future__ import annotations

import re

from rerank_core.engine.families.base import ModelFamily, PromptTemplate

NAME = re.compile(r"mxbai-rerank-(?:xsmall|base|large)-v2", re.IGNORECASE)
"""Hub ids and folder names of this family."""

TASK_PROMPT = (
    "You are a search relevance expert who evaluates how well documents match search queries. For each "
    "query-document pair, carefully analyze the semantic relationship between them, then provide your binary "
    "relevance judgment (0 for not relevant, 1 for relevant).\nRelevance:"
)

_PREFIX = (
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\n"
)
_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n"

MXBAI_RERANK_V2 = ModelFamily(
    name="mxbai-rerank-v2",
    head="token-logits",
    description="Qwen2 causal LM; chat template, [instruction:] query: / document: / task prompt, sigmoid(l_1 - l_0)",
    prompt=PromptTemplate(
        segments=(_PREFIX, "query: {query}", "\n", "document: {document}", "\n", TASK_PROMPT, _SUFFIX),
        instructed=(
            _PREFIX,
            "instruction: {instruction}\nquery: {query}",
            "\n",
            "document: {document}",
            "\n",
            TASK_PROMPT,
            _SUFFIX,
        ),
    ),
    score_tokens=("0", "1"),
    default_max_length=8192,
    calibration=(("base-v2", 4.5), ("large-v2", 6.0), ("", 6.0)),  # estimated_max / 2: 9.0 base, else 12.0
)
