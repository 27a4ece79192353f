"""The engine's internals: input building per model family, token budgets, batching, activation, score cache.

Nothing here is public API; :class:`rerank_core.CrossEncoderScorer` composes it. The model-family seam is
:mod:`rerank_core.engine.families`: how a checkpoint's input is built and which logits make its score.
"""
