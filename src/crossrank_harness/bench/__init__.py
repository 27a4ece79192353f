"""``crossrank bench``: reranking speed against the usual tools, each row in a fresh process of its own.

- :mod:`.run`: the settings and the run (cross-encoder rows, or an LLM reranker's rows);
- :mod:`.rows`: the rows, each building a rerank route (:mod:`crossrank_harness.routes`);
- :mod:`.workload`: the inputs, real queries with their BM25 top passages;
- :mod:`.worker`: one row timed in its own process; :mod:`.fresh_process` starts it and reads its peak memory;
- :mod:`.concurrency`: concurrent adapter calls against the same calls one at a time;
- :mod:`.llm`: an LLM reranker's rows (recipe, full LM head, crossrank), their worker and table;
- :mod:`.report`: figures per row, the comparison with the LangChain baseline, the tables and the plot.
"""
