"""How crossrank names and fills its cache entries (ONNX exports, corpus embeddings) in the cache folder.

An entry is named after its model (:func:`slug`) and a digest of what it was made from, of which a local
file or folder enters as its :func:`fingerprint`; it is written beside its place and renamed into it
(:func:`build_atomically`), so a reader never sees half of one.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def fingerprint(path: Path) -> list[str]:
    """A file, or every file under a folder: the absolute path, then each file's name, size and modification time.

    Names are relative to the path's parent, so a folder's files are named ``folder/file``.
    """
    path = path.resolve()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stats = [(file, file.stat()) for file in files]
    return [
        str(path),
        *(f"{file.relative_to(path.parent).as_posix()}:{st.st_size}:{st.st_mtime_ns}" for file, st in stats),
    ]


def slug(model_name_or_path: str) -> str:
    """A file-name-safe label for a model: the last part of its id or folder, at most 60 characters."""
    name = Path(model_name_or_path.rstrip("/\\")).name or "model"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60]


def build_atomically(target: Path, build: Callable[[Path], object]) -> None:
    """Make ``target`` (a file or a folder): ``build`` writes it at a scratch path beside it, then it is renamed.

    A reader sees the whole entry or none. When the rename finds the place taken by another process that
    finished the same entry first, theirs is kept: the same name is the same content.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".building-"))
    try:
        build(scratch / target.name)
        try:
            os.replace(scratch / target.name, target)
        except OSError:
            if not target.exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
