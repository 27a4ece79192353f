"""The code blocks of the project's Markdown files, and how each is checked.

A fenced block tagged ``python``, ``bash`` or ``sh`` runs as written. An HTML comment on the line before
the fence changes that, with the reason a reader can see in the source:

- ``<!-- snippet: skip: REASON -->``: not run (it needs a server, a cluster or a GPU, or installs packages);
- ``<!-- snippet: flags: REASON -->``: every ``crossrank ...`` command in it is parsed by the real command
  line, so its flags and values must be valid, but not run (it takes hours, or starts a server).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

RUN, SKIP, FLAGS = "run", "skip", "flags"
LANGUAGES = {"python": "python", "bash": "shell", "sh": "shell"}
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*snippet:\s*(skip|flags):\s*(.+?)\s*-->\s*$")


@dataclass(frozen=True)
class Snippet:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int
    """1-based line of the opening fence."""
    language: str
    """``python`` or ``shell``."""
    code: str
    mode: str
    """:data:`RUN`, :data:`SKIP` or :data:`FLAGS`."""
    reason: str

    @property
    def name(self) -> str:
        return f"{self.path.name}:{self.line}"


def snippets(path: Path) -> list[Snippet]:
    """The Python and shell blocks of ``path``, in file order (other blocks, such as plain text, are not code)."""
    found: list[Snippet] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        opening = _FENCE.match(lines[number])
        if opening is None:
            number += 1
            continue
        end = next(i for i in range(number + 1, len(lines)) if lines[i].startswith("```"))
        language = LANGUAGES.get(opening.group(1))
        if language is not None:
            marker = _MARKER.match(lines[number - 1]) if number else None
            mode, reason = (marker.group(1), marker.group(2)) if marker else (RUN, "")
            code = "\n".join(lines[number + 1 : end]) + "\n"
            found.append(Snippet(path, number + 1, language, code, mode, reason))
        number = end + 1
    return found


def commands(shell: str) -> list[list[str]]:
    """The commands of a shell block as argument lists: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", shell)
    return [words for line in joined.splitlines() if (words := shlex.split(line, comments=True))]
