"""crossrank's measuring harness: what ``crossrank eval`` and ``crossrank bench`` run, and the benchmarks use."""
