"""The backends' tests write exports and quantized graphs to a cache folder of each module's own."""

from __future__ import annotations

import pytest

from rerank_core.engine.cache_dir import CACHE_DIR_ENV


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """This module's cache folder (``CROSSRANK_CACHE_DIR``), never the user's."""
    root = tmp_path_factory.mktemp("backend-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(root))
        yield root
