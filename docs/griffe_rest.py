"""A griffe extension for the reference site: the reST markup in crossrank's docstrings, read as Markdown.

The docstrings are Google style with reST inline markup: ``:class:`Name``` roles become code spans
(``~`` keeps the last dotted part, as in Sphinx) and a ``.. code-block:: python`` directive becomes a
fenced block. Double-backtick literals already are Markdown code spans.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:attr|class|data|exc|func|meth|mod|obj):`(?P<tilde>~?)(?P<target>[^`]+)`")
_CODE_BLOCK = re.compile(r"(?P<indent> *)\.\. code-block::\s*(?P<lang>\S*)\s*")


class RestMarkup(griffe.Extension):
    """Rewrite every docstring's reST roles and code-block directives as Markdown before it is parsed."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring in place once the object tree is built."""
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)


def to_markdown(text: str) -> str:
    """``text`` with its reST roles as code spans and its code-block directives as fenced blocks."""
    return _fence_code_blocks(_ROLE.sub(_role_as_code, text))


def _role_as_code(match: re.Match[str]) -> str:
    target = match["target"]
    return f"`{target.rsplit('.', 1)[-1] if match['tilde'] else target}`"


def _fence_code_blocks(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        directive = _CODE_BLOCK.fullmatch(lines[i])
        if directive is None:
            out.append(lines[i])
            i += 1
            continue
        indent = directive["indent"]
        i += 1
        start = i
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)):
            i += 1
        while i > start and not lines[i - 1].strip():  # trailing blank lines stay outside the block
            i -= 1
        body = textwrap.dedent("\n".join(lines[start:i])).strip("\n")
        out += [f"{indent}```{directive['lang']}", textwrap.indent(body, indent), f"{indent}```"]
    return "\n".join(out)
