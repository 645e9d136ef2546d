"""Generated blocks inside hand-written documents: the text between ``<!-- NAME:begin -->`` and
``<!-- NAME:end -->`` is replaced, everything else is kept byte for byte.

Used for the parameter table of docs/ODD.md (:mod:`sim.spec.paramtable`) and the validation tables of
docs/VALIDATION.md (``ceasefire validation --update-docs``), so that a document cannot drift from what
the code computes.
"""

from __future__ import annotations


def markers(name: str) -> tuple[str, str]:
    """The opening and closing markers of block ``name``: ``<!-- NAME:begin -->``, ``<!-- NAME:end -->``."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def has_block(document: str, name: str) -> bool:
    """Whether ``document`` holds block ``name``: its opening marker, then its closing one."""
    begin, end = markers(name)
    return begin in document and end in document.split(begin, 1)[1]


def block(document: str, name: str) -> str:
    """The text of block ``name`` in ``document``, without the markers and the surrounding newlines.

    Raises:
        ValueError: ``document`` does not hold the block.
    """
    if not has_block(document, name):
        raise ValueError(f"no block {markers(name)[0]} ... {markers(name)[1]}")
    begin, end = markers(name)
    return document.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def replace_block(document: str, name: str, text: str) -> str:
    """``document`` with ``text`` (on lines of its own) between the markers of block ``name``.

    Raises:
        ValueError: ``document`` does not hold the block.
    """
    if not has_block(document, name):
        raise ValueError(f"no block {markers(name)[0]} ... {markers(name)[1]}")
    begin, end = markers(name)
    head, rest = document.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{text}\n{end}{tail}"
