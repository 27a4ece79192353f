"""Rerank routes: the ways one reranking call is made and timed, each a :class:`~.base.RerankRoute`.

- :mod:`.crossrank`: crossrank's core scorer and its LangChain and LlamaIndex adapters (``crossrank eval --via``);
- :mod:`.predict`: plain ``sentence_transformers.CrossEncoder.predict``;
- :mod:`.langchain`, :mod:`.llamaindex`: a reranker behind each framework's own pipeline object;
- :mod:`.fastembed`: FastEmbed's ``TextCrossEncoder`` on a local ONNX folder.

The framework routes import their framework, so they are imported only when chosen.
"""
