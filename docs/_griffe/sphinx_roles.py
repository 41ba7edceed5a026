"""A griffe extension for the docs site: the docstrings' Sphinx habits, read as Markdown.

nemo_sdk's docstrings are Google style with reST inline markup: ``:class:`~a.B```
roles and ``::`` before a literal block. Markdown shows those literally, so before
mkdocstrings renders a docstring this turns a role into a code span (``~`` keeps the
last name, as Sphinx does) and a trailing ``::`` into ``:``. Loaded by mkdocs.yml; not
part of the site (``exclude_docs``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const):`(~?)([^`]+)`")
_LITERAL_INTRO = re.compile(r"(?<=\S)::$", re.M)


def _role(match: re.Match[str]) -> str:
    target = match.group(2)
    if match.group(1):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def markdown_of(text: str) -> str:
    """``text`` with Sphinx roles as code spans and ``word::`` as ``word:``."""
    return _LITERAL_INTRO.sub(":", _ROLE.sub(_role, text))


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring of the loaded objects (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value)
