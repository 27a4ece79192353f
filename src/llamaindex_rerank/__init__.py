"""LlamaIndex adapter for crossrank."""
