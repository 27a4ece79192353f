"""First-stage retrievers for evaluation: BM25 (bm25s) and dense FAISS over a bi-encoder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rerank_core.engine.model_loading import BI_ENCODER, loading_model

from .embedding_cache import EmbeddingCache


class Bm25Retriever:
    """BM25 with English stemming and stop words over ``title + " " + text`` (bm25s)."""

    def __init__(self, doc_ids: Sequence[str], texts: Sequence[str]) -> None:
        import bm25s
        import Stemmer

        self.doc_ids = list(doc_ids)
        self._stemmer = Stemmer.Stemmer("english")
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._index = bm25s.BM25()
        self._index.index(tokens, show_progress=False)

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
        """The top ``k`` (doc id, score) for each query, best first."""
        import bm25s

        tokens = bm25s.tokenize(list(queries), stopwords="en", stemmer=self._stemmer, show_progress=False)
        k = min(k, len(self.doc_ids))
        docs, scores = self._index.retrieve(tokens, k=k, show_progress=False)
        return [
            [(self.doc_ids[int(d)], float(s)) for d, s in zip(row_docs, row_scores, strict=True)]
            for row_docs, row_scores in zip(docs, scores, strict=True)
        ]


class DenseRetriever:
    """Inner-product FAISS search over normalised sentence-transformers embeddings.

    Corpus embeddings come from ``embeddings`` if given, else from ``cache`` when it holds them for
    this model and corpus, else they are encoded (and stored in ``cache``, if any). ``cache_hit``
    tells which: ``True`` (read from the cache), ``False`` (encoded) or ``None`` (passed in).
    """

    def __init__(
        self,
        model_name_or_path: str,
        doc_ids: Sequence[str],
        texts: Sequence[str],
        *,
        embeddings: np.ndarray | None = None,
        cache: EmbeddingCache | None = None,
        show_progress: bool = False,
    ) -> None:
        import faiss
        from sentence_transformers import SentenceTransformer

        self.doc_ids = list(doc_ids)
        with loading_model(model_name_or_path, BI_ENCODER, show_progress=show_progress):
            self._model = SentenceTransformer(model_name_or_path, device="cpu")
        self.cache_hit: bool | None = None
        if embeddings is None:
            embeddings, self.cache_hit = self._corpus_embeddings(model_name_or_path, texts, cache, show_progress)
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self._index = faiss.IndexFlatIP(self.embeddings.shape[1])
        self._index.add(self.embeddings)

    def _corpus_embeddings(
        self, model_name_or_path: str, texts: Sequence[str], cache: EmbeddingCache | None, show_progress: bool
    ) -> tuple[np.ndarray, bool]:
        """The corpus embeddings and whether they came from ``cache``."""
        if cache is None:
            return self.encode(texts, show_progress=show_progress), False
        path = cache.path_for(model_name_or_path, self.doc_ids, texts)
        cached = cache.load(path, len(self.doc_ids))
        if cached is not None:
            return cached, True
        encoded = self.encode(texts, show_progress=show_progress)
        cache.save(path, encoded)
        return encoded, False

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Normalised float32 embeddings of ``texts``."""
        return self._model.encode(
            list(texts),
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        ).astype(np.float32)

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
        """The top ``k`` (doc id, cosine score) for each query, best first."""
        scores, docs = self._index.search(self.encode(queries), min(k, len(self.doc_ids)))
        return [
            [(self.doc_ids[int(d)], float(s)) for d, s in zip(row_docs, row_scores, strict=True) if d >= 0]
            for row_docs, row_scores in zip(docs, scores, strict=True)
        ]
