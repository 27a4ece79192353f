"""The stub HTTP server of the client tests, one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_stub import StubServer


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer()
    yield server
    server.stop()
