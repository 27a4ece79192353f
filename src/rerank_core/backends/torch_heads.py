"""The scoring module every family runs on PyTorch, and traces to ONNX: token arrays in, score logits out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from rerank_core.engine.families import ModelFamily


class ScoringModule(torch.nn.Module):
    """``(input_ids, attention_mask[, token_type_ids])`` in ``input_names`` order -> float logits ``(batch, labels)``.

    - ``classifier`` (encoders): the model's own classification logits; it pools itself.
    - ``last-token-classifier`` (decoder classifiers): the model's ``score`` head on the hidden state of each
      row's last real token (found from the attention mask), skipping trailing tokens equal to the config's
      ``pad_token_id`` as transformers' own pooling does; the batch's padding is never read.
    - ``token-logits`` (causal-LM rerankers): only the language-model head rows of the score's tokens, at the
      last real token: 2 of the vocabulary's rows instead of all of them.

    Rows are right-padded; decoders attend causally, so padding after the last real token changes nothing.
    """

    def __init__(
        self, model: Any, family: ModelFamily, input_names: Sequence[str], score_token_ids: Sequence[int] = ()
    ) -> None:
        super().__init__()
        self.model = model
        self.head = family.head
        self.input_names = tuple(input_names)
        pad = getattr(model.config, "pad_token_id", None)
        self.pooling_skips = pad if self.head == "last-token-classifier" and isinstance(pad, int) else None
        if self.head == "token-logits":
            output = model.get_output_embeddings()
            ids = torch.tensor(list(score_token_ids), dtype=torch.long)
            self.rows = torch.nn.Parameter(output.weight.detach()[ids].clone(), requires_grad=False)
            bias = getattr(output, "bias", None)
            self.bias = None if bias is None else torch.nn.Parameter(bias.detach()[ids].clone(), requires_grad=False)
            self.softcap = getattr(model.config, "final_logit_softcapping", None)

    def forward(self, *arrays: torch.Tensor) -> torch.Tensor:
        inputs = dict(zip(self.input_names, arrays))
        if self.head == "classifier":
            return self.model(**inputs).logits
        mask = inputs["attention_mask"]
        hidden = self.model.base_model(input_ids=inputs["input_ids"], attention_mask=mask, use_cache=False)
        states = hidden.last_hidden_state
        pooled = states[torch.arange(states.shape[0], device=states.device), self._last_positions(inputs)]
        if self.head == "last-token-classifier":
            return self.model.score(pooled)
        logits = pooled @ self.rows.T
        if self.bias is not None:
            logits = logits + self.bias
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return logits

    def _last_positions(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Each row's pooled position: its last real token (not a pad id the config names, for classifiers)."""
        read = inputs["attention_mask"].bool()
        if self.pooling_skips is not None:
            read = read & (inputs["input_ids"] != self.pooling_skips)
        positions = torch.arange(read.shape[1], device=read.device)
        return (positions * read).argmax(dim=1)
