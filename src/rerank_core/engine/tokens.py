"""What a model batch is built from: one pair's token ids and type ids."""

from __future__ import annotations

from typing import Protocol


class Tokens(Protocol):
    """One model input: a ``tokenizers.Encoding`` (pair templates) or a prompt's ids."""

    @property
    def ids(self) -> list[int]: ...

    @property
    def type_ids(self) -> list[int]: ...

    def __len__(self) -> int: ...
