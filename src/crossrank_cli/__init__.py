"""The ``crossrank`` command line: ``crossrank eval`` (retrieval quality) and ``crossrank bench`` (speed)."""
