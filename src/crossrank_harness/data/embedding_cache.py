"""An on-disk cache of corpus embeddings, keyed by the embedding model and the corpus content."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rerank_core.engine.cache_dir import default_cache_dir
from rerank_core.engine.cache_files import build_atomically, fingerprint, slug

logger = logging.getLogger(__name__)

_FORMAT = "crossrank-embeddings-v1"


class EmbeddingCache:
    """Corpus embeddings stored as ``.npy`` files under ``root/embeddings``.

    The key hashes the model (its id, or for a local folder its absolute path and the names, sizes and
    modification times of its files, so a retrained model does not reuse old vectors) and every
    document id and text in order. A corrupt or mismatched file is ignored and rewritten.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def path_for(self, model_name_or_path: str, doc_ids: Sequence[str], texts: Sequence[str]) -> Path:
        """The file that holds (or will hold) these documents' embeddings under this model."""
        digest = hashlib.sha256(_FORMAT.encode())
        for part in (*_model_fingerprint(model_name_or_path), "\x00corpus"):
            digest.update(_framed(part))
        for doc_id, text in zip(doc_ids, texts, strict=True):
            digest.update(_framed(doc_id))
            digest.update(_framed(text))
        return self.root / "embeddings" / f"{slug(model_name_or_path)}-{digest.hexdigest()[:32]}.npy"

    def load(self, path: Path, rows: int) -> np.ndarray | None:
        """The cached float32 matrix with ``rows`` rows, or ``None`` when absent or unusable."""
        if not path.is_file():
            return None
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            logger.warning("Ignoring unreadable embedding cache %s (%s); re-encoding.", path, exc)
            return None
        if array.ndim != 2 or array.shape[0] != rows or array.dtype != np.float32:
            logger.warning("Ignoring embedding cache %s: shape %s does not fit %d documents.", path, array.shape, rows)
            return None
        return array

    def save(self, path: Path, embeddings: np.ndarray) -> None:
        """Write ``embeddings`` atomically (a reader never sees a half-written file)."""

        def write(scratch: Path) -> None:
            with scratch.open("wb") as handle:
                np.save(handle, np.ascontiguousarray(embeddings, dtype=np.float32), allow_pickle=False)

        build_atomically(path, write)
        logger.info("Cached %d embeddings in %s", embeddings.shape[0], path)


def _framed(value: str) -> bytes:
    """Length-prefixed bytes, so concatenated fields cannot collide."""
    data = value.encode("utf-8")
    return len(data).to_bytes(8, "little") + data


def _model_fingerprint(model_name_or_path: str) -> list[str]:
    """A hub id as given; a local folder as its :func:`~rerank_core.engine.cache_files.fingerprint`."""
    folder = Path(model_name_or_path).expanduser()
    return fingerprint(folder) if folder.is_dir() else [model_name_or_path]
