"""The ``crossrank`` command line: argument parsing, command wiring and exit codes; the work is in the harness.

``crossrank eval`` and ``crossrank bench`` run :mod:`crossrank_harness`; ``export-onnx`` and ``serve`` run
:mod:`rerank_core`.
"""
