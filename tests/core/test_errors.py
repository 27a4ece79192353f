"""Typed, actionable errors for bad input, bad options and missing models."""

from __future__ import annotations

import pytest
import torch

from rerank_core import (
    CrossEncoderScorer,
    DeviceUnavailableError,
    InvalidArgumentError,
    InvalidQueryError,
    InvalidTextError,
    ModelNotFoundError,
    RerankError,
)


@pytest.fixture(scope="module")
def scorer(tiny_model_dir):
    return CrossEncoderScorer(tiny_model_dir)


@pytest.mark.parametrize("query", ["", "   \n\t", None, 42, b"bytes"])
def test_bad_query_is_a_value_error(scorer, query):
    with pytest.raises(InvalidQueryError) as info:
        scorer.score(query, ["text"])
    assert isinstance(info.value, ValueError) and isinstance(info.value, RerankError)


def test_non_string_text_names_its_index(scorer):
    with pytest.raises(InvalidTextError, match=r"texts\[2\] is a int"):
        scorer.score("query", ["a", "b", 7])
    with pytest.raises(TypeError, match=r"texts\[0\] is a NoneType"):
        scorer.rank("query", [None])


def test_a_bare_string_is_not_a_list_of_texts(scorer):
    with pytest.raises(InvalidTextError, match="list"):
        scorer.score("query", "a single string")


@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 0},
        {"batch_size": -4},
        {"max_length": 0},
        {"activation": "softmax"},
        {"long_documents": "split"},
        {"backend": "tensorflow"},
    ],
)
def test_bad_options_are_rejected_at_construction(tiny_model_dir, options):
    with pytest.raises(InvalidArgumentError):
        CrossEncoderScorer(tiny_model_dir, **options)


def test_missing_local_model_names_the_path_and_offline_fix(tmp_path):
    missing = str(tmp_path / "no-such-model")
    scorer = CrossEncoderScorer(missing)
    with pytest.raises(ModelNotFoundError) as info:
        scorer.score("query", ["text"])
    message = str(info.value)
    assert missing in message and "HF_HUB_OFFLINE" in message and "local folder" in message
    assert not scorer.loaded


def test_failed_load_can_be_retried(tmp_path, tiny_model_dir):
    import shutil

    target = tmp_path / "arrives-later"
    scorer = CrossEncoderScorer(str(target))
    with pytest.raises(ModelNotFoundError):
        scorer.load()
    shutil.copytree(tiny_model_dir, target)
    assert scorer.score("query", ["text"]).shape == (1,)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_says_what_to_do(tiny_model_dir):
    with pytest.raises(DeviceUnavailableError, match="device='cpu'"):
        CrossEncoderScorer(tiny_model_dir, device="cuda").load()


def test_device_none_picks_an_available_device(tiny_model_dir):
    backend, _ = CrossEncoderScorer(tiny_model_dir).load()._loaded_model()
    assert backend.device.startswith("cuda" if torch.cuda.is_available() else "cpu")


def test_checkpoint_code_never_runs_unless_trusted(tmp_path, tiny_model_dir):
    import json
    import shutil

    model_dir = tmp_path / "with-custom-code"
    shutil.copytree(tiny_model_dir, model_dir)
    marker = tmp_path / "custom-code-ran"
    (model_dir / "custom_model.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import BertForSequenceClassification as CustomModel\n"
        "from transformers import BertConfig as CustomConfig\n"
    )
    config = json.loads((model_dir / "config.json").read_text())
    config["auto_map"] = {
        "AutoConfig": "custom_model.CustomConfig",
        "AutoModelForSequenceClassification": "custom_model.CustomModel",
    }
    (model_dir / "config.json").write_text(json.dumps(config))
    try:
        CrossEncoderScorer(str(model_dir)).score("query", ["text"])
    except RerankError:
        pass
    assert not marker.exists()
