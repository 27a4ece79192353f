"""Typed errors raised by crossrank. Every error says what went wrong and what to do."""

from __future__ import annotations


class RerankError(Exception):
    """Base class of every error crossrank raises on purpose."""


class InvalidQueryError(RerankError, ValueError):
    """The query is not a non-empty string."""


class InvalidTextError(RerankError, TypeError):
    """A text to score is not a string; the message names its index."""


class InvalidArgumentError(RerankError, ValueError):
    """An option or ranking argument is out of range (batch size, top_n, window, threshold...)."""


class InvalidArgumentTypeError(RerankError, TypeError):
    """An argument other than a text to score has the wrong type; the message names it and what it takes."""

    def __init__(self, argument: str, expected: str, value: object, hint: str = "") -> None:
        message = f"{argument} must be {expected}, got {type(value).__name__}."
        super().__init__(f"{message} {hint}" if hint else message)
        self.argument = argument


class InvalidCallError(RerankError, TypeError):
    """The arguments do not fit the call's signature: too many positional arguments, or one given both
    positionally and by keyword (what Python raises a plain ``TypeError`` for)."""


class IndexFolderError(RerankError, OSError):
    """The folder of a saved FAISS index cannot be written or read (a file stands there, no permission...)."""


class IndexNotFoundError(IndexFolderError, FileNotFoundError):
    """A folder holds no saved FAISS index: the folder or one of the index's files is missing."""


class MissingDependencyError(RerankError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, hint: str = "") -> None:
        message = f'{package} is not installed. Install it with: pip install "crossrank[{extra}]"'
        super().__init__(f"{message}. {hint}" if hint else message)
        self.package = package
        self.extra = extra


class ModelLoadError(RerankError):
    """A model exists but cannot be loaded or used as a cross-encoder."""


class ModelNotFoundError(ModelLoadError):
    """No model could be found under the given Hugging Face id or local path; the message names its role."""

    def __init__(
        self, model_name_or_path: str, cause: BaseException | None = None, *, role: str = "cross-encoder"
    ) -> None:
        detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        super().__init__(
            f"Cannot find the {role} {model_name_or_path!r}{detail}. "
            "Check the Hugging Face model id or the local folder path. To work offline, download the "
            "model once (for example `hf download <id>`), set HF_HUB_OFFLINE=1 and use the cached id, "
            "or pass the path of a local folder that holds config.json, the weights and the tokenizer files."
        )
        self.model_name_or_path = model_name_or_path
        self.role = role


class DeviceUnavailableError(RerankError):
    """The requested device (for example CUDA) is not available on this machine."""


class RemoteScorerError(RerankError):
    """A served reranker answered with an error that is not the caller's input (see ``status``)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ServiceUnavailableError(RemoteScorerError, ConnectionError):
    """A served reranker cannot be reached (after the retries) or says it is overloaded."""


class RemoteTimeoutError(RemoteScorerError, TimeoutError):
    """A served reranker did not answer within the timeout."""
