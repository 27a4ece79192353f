"""bge-reranker-v2-gemma (``BAAI/bge-reranker-v2-gemma``): a Gemma causal LM asked "Yes" or "No".

The recipe is FlagEmbedding's ``FlagLLMReranker`` (github.com/FlagOpen/FlagEmbedding): BOS, ``A: {query}``,
a newline, ``B: {passage}``, a newline and the prompt, each tokenized alone; the score is the logit of "Yes"
at the last token (sigmoid when normalised).
"""

from __future__ import annotations

import re

from rerank_core.engine.families.base import ModelFamily, PromptTemplate

NAME = re.compile(r"bge-reranker-v2-gemma", re.IGNORECASE)
"""Hub ids and folder names of this family."""

PROMPT = (
    "Given a query A and a passage B, determine whether the passage contains an answer to the query by providing a "
    "prediction of either 'Yes' or 'No'."
)

BGE_RERANKER_GEMMA = ModelFamily(
    name="bge-reranker-gemma",
    head="token-logits",
    description="Gemma causal LM; A: query / B: passage / prompt, sigmoid(l_Yes)",
    prompt=PromptTemplate(segments=("A: {query}", "\n", "B: {document}", "\n", PROMPT), add_bos=True),
    score_tokens=("Yes",),
    default_max_length=1024,
)
