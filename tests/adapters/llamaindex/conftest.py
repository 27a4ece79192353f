"""Session fixtures for the LlamaIndex adapter: one FAISS index over the SciFact sub-corpus, built once.

Everything here is real: ``HuggingFaceEmbedding`` over ../shared/models/all-MiniLM-L6-v2, a
``FaissVectorStore``, and the shared cross-encoder.
"""

from __future__ import annotations

import pytest
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.llms import MockLLM
from llama_index.core.schema import NodeWithScore, TextNode

from llamaindex_rerank import CrossEncoderRerank, build_faiss_index, build_rerank_query_engine


class EventRecorder(BaseEventHandler):
    """An instrumentation event handler that keeps every event it sees."""

    events: list[BaseEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "EventRecorder"

    def handle(self, event: BaseEvent, **kwargs) -> None:
        self.events.append(event)


@pytest.fixture
def recorded_events():
    """Events reaching the root dispatcher during one test (how a user's global handler sees them)."""
    root = get_dispatcher()
    recorder = EventRecorder(events=[])
    saved = list(root.event_handlers)
    root.add_event_handler(recorder)
    yield recorder.events
    root.event_handlers = saved


@pytest.fixture(scope="session")
def li_embed_model(embed_model_path):
    """The real bi-encoder as a LlamaIndex embedding, on CPU."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(model_name=embed_model_path, device="cpu", embed_batch_size=64)


@pytest.fixture(scope="session")
def scifact_nodes(scifact_sub) -> list[TextNode]:
    """One node per abstract (title + text), its BEIR id as node id: no chunking."""
    return [TextNode(id_=doc_id, text=scifact_sub.doc_text(doc_id)) for doc_id in scifact_sub.corpus]


@pytest.fixture(scope="session")
def scifact_index(scifact_nodes, li_embed_model):
    """FAISS over the sub-corpus (the first 50 test queries' relevant abstracts + 1,000 others)."""
    return build_faiss_index(scifact_nodes, embed_model=li_embed_model)


@pytest.fixture(scope="session")
def ce_reranker(ce_model_path) -> CrossEncoderRerank:
    """The real cross-encoder in fp32 (as SentenceTransformerRerank runs it), keeping every candidate."""
    return CrossEncoderRerank(model=ce_model_path, top_n=None, precision="fp32")


@pytest.fixture(scope="session")
def scifact_pipeline(scifact_index, ce_reranker):
    """The helper's defaults (FAISS top 20, reranked top 3) over the session index; MockLLM, no real LLM.

    It scores with ``ce_reranker``'s (fp32) scorer, so its rankings compare with ``reranked_candidates``.
    """
    return build_rerank_query_engine(scifact_index, model=ce_reranker.scorer, llm=MockLLM())


@pytest.fixture(scope="session")
def faiss_candidates(scifact_sub, scifact_pipeline) -> dict[str, list[NodeWithScore]]:
    """FAISS top 20 for each of the 50 queries, through the pipeline's first-stage retriever."""
    return {qid: scifact_pipeline.retriever.retrieve(query) for qid, query in scifact_sub.queries.items()}


@pytest.fixture(scope="session")
def reranked_candidates(scifact_sub, faiss_candidates, ce_reranker) -> dict[str, list[NodeWithScore]]:
    """Every query's 20 candidates reranked by the cross-encoder (all 20, best first)."""
    return {
        qid: ce_reranker.postprocess_nodes(faiss_candidates[qid], query_str=scifact_sub.queries[qid])
        for qid in scifact_sub.queries
    }
