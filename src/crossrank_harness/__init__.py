"""crossrank's measuring harness: what ``crossrank eval`` and ``crossrank bench`` run, and the benchmarks use.

- :mod:`.data`: BEIR folders and long documents built from them, the first stages (BM25, dense FAISS), the
  corpus embedding cache, ranx metrics;
- :mod:`.routes`: rerank routes, the ways one reranking call is made and timed (core, adapters, baselines);
- :mod:`.eval`: ``crossrank eval``'s run (in process or on Ray Data), its table and its window or chunk-size plot;
- :mod:`.bench`: ``crossrank bench``'s rows, workload, worker processes, LLM reranker rows and reports;
- :mod:`.table`, :mod:`.stats`, :mod:`.system_info`: plain-text tables, latency summaries, the machine
  and package versions behind the numbers, for every report;
- :mod:`.ports`: a free loopback port, for the servers tests and benchmarks start.

The command line (:mod:`crossrank_cli`) only parses arguments into these runs and maps their errors to exit codes.
"""
