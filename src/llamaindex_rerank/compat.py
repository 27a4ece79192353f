"""The arguments of the two ``SentenceTransformerRerank`` classes that :class:`CrossEncoderRerank` replaces.

llama-index-core's ``SentenceTransformerRerank(top_n, model, device, keep_retrieval_score, trust_remote_code)``
and llama-index-postprocessor-sbert-rerank's ``SentenceTransformerRerank(model, device, cache_folder, top_n,
keep_retrieval_score, cross_encoder_kwargs)`` take their arguments in different orders, and the second passes
``cross_encoder_kwargs`` on to sentence-transformers' ``CrossEncoder``. :func:`named_arguments` binds positional
arguments in either order; :data:`CROSS_ENCODER_KWARGS` is the one table of what each ``CrossEncoder`` keyword
becomes here: a :class:`rerank_core.ScorerOptions` field, or a refusal that says what to do instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rerank_core import InvalidArgumentError, InvalidArgumentTypeError, InvalidCallError, Scorer, ScorerOptions

CORE_ORDER = ("top_n", "model", "device", "keep_retrieval_score", "trust_remote_code")
"""llama-index-core's positional order (``top_n`` first)."""
INTEGRATION_ORDER = ("model", "device", "cache_folder", "top_n", "keep_retrieval_score", "cross_encoder_kwargs")
"""llama-index-postprocessor-sbert-rerank's positional order (``model`` first)."""


def named_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``args`` named in the order their first one shows, merged with ``kwargs`` (a new dict).

    A first positional ``str`` or ``rerank_core.Scorer`` is a model, so the integration package's order
    (:data:`INTEGRATION_ORDER`); an ``int`` or ``None`` is a ``top_n``, so llama-index-core's (:data:`CORE_ORDER`).

    Raises:
        InvalidArgumentTypeError: the first positional argument is neither.
        InvalidCallError: more positional arguments than that order has, or one also given by keyword.
    """
    if not args:
        return dict(kwargs)
    first = args[0]
    order: tuple[str, ...]
    if isinstance(first, str | Scorer):
        order, source = INTEGRATION_ORDER, "llama-index-postprocessor-sbert-rerank"
    elif first is None or isinstance(first, int):
        order, source = CORE_ORDER, "llama-index-core"
    else:
        raise InvalidArgumentTypeError(
            "The first positional argument",
            "a model (an id, a path or a rerank_core.Scorer: llama-index-postprocessor-sbert-rerank's order) or "
            "top_n (an int or None: llama-index-core's order)",
            first,
        )
    if len(args) > len(order):
        raise InvalidCallError(
            f"CrossEncoderRerank takes at most {len(order)} positional arguments in {source}'s order "
            f"({', '.join(order)}), got {len(args)}; pass the others by keyword."
        )
    twice = [name for name in order[: len(args)] if name in kwargs]
    if twice:
        raise InvalidCallError(
            f"CrossEncoderRerank got {', '.join(twice)} both positionally (in {source}'s order: "
            f"{', '.join(order)}) and by keyword; give each once."
        )
    return {**dict(zip(order, args)), **kwargs}


@dataclass(frozen=True)
class CrossEncoderKeyword:
    """What one keyword argument of sentence-transformers' ``CrossEncoder`` becomes here."""

    option: str | None
    """The :class:`rerank_core.ScorerOptions` field it sets; ``None`` when it is refused."""
    convert: Callable[[Any], Any] = lambda value: value
    """Its value as the option takes it; raises for a value crossrank cannot honour."""
    refusal: str = ""
    """Why it is refused and what to do instead (when ``option`` is ``None``)."""


def _folder(value: Any) -> Any:
    """A path as its string (the option's own validation refuses anything else)."""
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def _activation(value: Any) -> str:
    """``torch.nn.Sigmoid()`` is ``activation="sigmoid"``, ``torch.nn.Identity()`` is ``"none"`` (raw scores);
    ``None``, the model's default, is crossrank's default. Any other function is refused."""
    if value is None:
        return str(ScorerOptions.model_fields["activation"].default)
    for module, activation in _torch_activations().items():
        if type(value) is module:
            return activation
    raise InvalidArgumentError(
        f"cross_encoder_kwargs['activation_fn']={value!r} is not supported: crossrank applies torch.nn.Sigmoid() "
        "(activation='sigmoid') or torch.nn.Identity() (activation='none'); pass one of those, or set activation."
    )


def _torch_activations() -> dict[type, str]:
    """The torch modules ``activation_fn`` may be, with their activation; none without torch (nor can one be given)."""
    try:
        from torch import nn
    except ModuleNotFoundError:
        return {}
    return {nn.Sigmoid: "sigmoid", nn.Identity: "none"}


def _refused(reason: str) -> CrossEncoderKeyword:
    return CrossEncoderKeyword(None, refusal=reason)


_TOKENIZER = _refused("crossrank builds pairs with the checkpoint's own fast tokenizer; set max_length for its limit")

CROSS_ENCODER_KWARGS: dict[str, CrossEncoderKeyword] = {
    "max_length": CrossEncoderKeyword("max_length"),
    "trust_remote_code": CrossEncoderKeyword("trust_remote_code"),
    "backend": CrossEncoderKeyword("backend"),
    "model_kwargs": CrossEncoderKeyword("model_kwargs"),
    "automodel_args": CrossEncoderKeyword("model_kwargs"),  # model_kwargs' name before sentence-transformers 3
    "cache_folder": CrossEncoderKeyword("cache_folder", _folder),
    "activation_fn": CrossEncoderKeyword("activation", _activation),
    "device": _refused("set the top-level device argument, as SentenceTransformerRerank requires"),
    "model": _refused("set the top-level model argument, as SentenceTransformerRerank requires"),
    "revision": _refused(
        "crossrank loads a hub id's main revision; download the revision you need "
        "(hf download ID --revision REV --local-dir DIR) and pass DIR as model"
    ),
    "local_files_only": _refused("set HF_HUB_OFFLINE=1 to load only files already in the cache"),
    "token": _refused(
        "log in with `hf auth login` or set HF_TOKEN (a token here would be saved with the reranker's settings)"
    ),
    "tokenizer_kwargs": _TOKENIZER,
    "processor_kwargs": _TOKENIZER,
    "config_kwargs": _refused("crossrank reads the checkpoint's config as saved; save a changed config with the model"),
}
"""Each sentence-transformers ``CrossEncoder`` keyword crossrank knows: the option it sets, or why it is refused."""

_SUPPORTED = ", ".join(name for name, keyword in CROSS_ENCODER_KWARGS.items() if keyword.option is not None)


def cross_encoder_options(cross_encoder_kwargs: object) -> dict[str, Any]:
    """The :class:`rerank_core.ScorerOptions` fields that ``cross_encoder_kwargs`` sets (it is left unchanged).

    Raises:
        InvalidArgumentTypeError: ``cross_encoder_kwargs`` is neither a dict nor ``None``.
        InvalidArgumentError: a keyword is refused (``device``, ``model``, ``revision``...) or unknown, a value
            cannot be honoured (``backend="openvino"``, another ``activation_fn``), or two keywords set one option.
    """
    if cross_encoder_kwargs is None:
        return {}
    if not isinstance(cross_encoder_kwargs, Mapping):
        raise InvalidArgumentTypeError(
            "cross_encoder_kwargs",
            "a dict of sentence-transformers CrossEncoder keyword arguments, or None",
            cross_encoder_kwargs,
        )
    options: dict[str, Any] = {}
    setters: dict[str, str] = {}
    for name, value in cross_encoder_kwargs.items():
        keyword = CROSS_ENCODER_KWARGS.get(name)
        if keyword is None or keyword.option is None:
            reason = "crossrank does not map it" if keyword is None else keyword.refusal
            raise InvalidArgumentError(
                f"cross_encoder_kwargs[{name!r}] is not supported: {reason}. The supported keys are {_SUPPORTED}."
            )
        if keyword.option in setters:
            raise InvalidArgumentError(
                f"cross_encoder_kwargs sets {keyword.option} twice ({setters[keyword.option]} and {name}); give one."
            )
        setters[keyword.option] = name
        options[keyword.option] = keyword.convert(value)
    return options


def with_cross_encoder_options(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` plus the options its ``cross_encoder_kwargs`` sets (a new dict); ``None`` becomes ``{}``.

    An option also given directly must have the same value (as a reranker restored with ``from_dict`` has), or
    its default (a positional ``cache_folder=None``, say), which ``cross_encoder_kwargs`` then overrides.

    Raises:
        InvalidArgumentError: an option given both ways with two values, or as :func:`cross_encoder_options`.
        InvalidArgumentTypeError: as :func:`cross_encoder_options`.
    """
    options = cross_encoder_options(fields.get("cross_encoder_kwargs"))
    defaults = {name: ScorerOptions.model_fields[name].get_default(call_default_factory=True) for name in options}
    clashes = [name for name, value in options.items() if fields.get(name, value) not in (value, defaults[name])]
    if clashes:
        raise InvalidArgumentError(
            "Given twice with different values: "
            + ", ".join(
                f"{name}={fields[name]!r} directly and {options[name]!r} in cross_encoder_kwargs" for name in clashes
            )
            + "; give each once."
        )
    return {**fields, **options, "cross_encoder_kwargs": fields.get("cross_encoder_kwargs") or {}}
