"""The pairs the graph backends' tests (ONNX Runtime, OpenVINO) score on the tiny random BERT."""

QUERY = "what is the cancer risk of zebrafish cells"
TEXTS = [
    "zebrafish cells show an increase in cancer risk",
    "red blue green",
    "the study of music and the river city " * 3,
    "one",
    "protein gene model data results " * 40,  # longer than the 128-token window: truncated
    "",
    "patients with cancer risk",
]
"""Short and long texts, an empty one, and one past the tiny model's window."""
