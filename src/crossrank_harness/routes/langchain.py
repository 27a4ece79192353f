"""Reranking through LangChain: a document compressor behind ``ContextualCompressionRetriever``."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import BaseDocumentCompressor, Document
from langchain_core.retrievers import BaseRetriever

ID_KEY = "id"
"""Metadata key holding each candidate's doc id (compressors keep metadata)."""


class CandidateRetriever(BaseRetriever):
    """A first stage that was already run: returns its fixed candidate documents for any query."""

    documents: list[Document]
    """The candidates, best first."""

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return list(self.documents)


class LangChainRoute:
    """``ContextualCompressionRetriever(base_compressor=compressor, base_retriever=candidates).invoke``."""

    def __init__(self, compressor: BaseDocumentCompressor) -> None:
        self.compressor = compressor

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> ContextualCompressionRetriever:
        """A retriever whose first stage returns these candidates as documents."""
        documents = [
            Document(page_content=text, metadata={ID_KEY: doc_id}, id=doc_id)
            for doc_id, text in zip(doc_ids, texts, strict=True)
        ]
        return ContextualCompressionRetriever(
            base_compressor=self.compressor, base_retriever=CandidateRetriever(documents=documents)
        )

    def rerank(self, query: str, prepared: ContextualCompressionRetriever) -> list[str]:
        """Invoke the retriever: the first stage, then the compressor."""
        return [doc.metadata[ID_KEY] for doc in prepared.invoke(query)]

    async def ascored(self, query: str, prepared: ContextualCompressionRetriever) -> list[tuple[str, float]]:
        """``ainvoke`` the retriever; (id, score) of every candidate, best first."""
        return [(doc.metadata[ID_KEY], doc.metadata["relevance_score"]) for doc in await prepared.ainvoke(query)]
