"""Qwen3-Reranker (``Qwen/Qwen3-Reranker-0.6B`` / ``-4B`` / ``-8B``): a Qwen3 causal LM asked "yes" or "no".

The recipe is the model card's reference code (huggingface.co/Qwen/Qwen3-Reranker-0.6B, "Transformers
Usage"; also QwenLM/Qwen3-Embedding): the system prefix and the assistant suffix with an empty think block
are tokenized alone, the body ``<Instruct>: {instruction}\\n<Query>: {query}\\n<Document>: {doc}`` is
truncated to ``max_length - len(prefix) - len(suffix)`` tokens (8192 in the card), and the score is
``softmax([logit("no"), logit("yes")])[1]`` at the last token, which is ``sigmoid(l_yes - l_no)``.
The sequence-classification conversions (one logit, the "yes" row minus the "no" row) read the same prompt.
"""

from __future__ import annotations

import re

from rerank_core.engine.families.base import ModelFamily, PromptTemplate

NAME = re.compile(r"qwen3-reranker", re.IGNORECASE)
"""Hub ids and folder names of this family."""

QWEN3_RERANKER = ModelFamily(
    name="qwen3-reranker",
    head="token-logits",
    description="Qwen3 causal LM; system prompt, <Instruct>/<Query>/<Document>, sigmoid(l_yes - l_no)",
    prompt=PromptTemplate(
        segments=(
            "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
            'Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n',
            "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}",
            "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
        ),
        instruction="Given a web search query, retrieve relevant passages that answer the query",
    ),
    score_tokens=("no", "yes"),
    default_max_length=8192,
)
