"""Errors the command line turns into one-line messages with exit code 2."""

from __future__ import annotations

from typing import Any

SHOWN_CHARS = 60
"""Longest echo of a user's value in a message, in characters (longer ones end in '…')."""

MESSAGE_CHARS = 2000
"""Longest whole message, in characters: a last guard against echoes no call site clipped."""


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` with control characters (newlines, tabs, ANSI escapes, bidi overrides) escaped as
    ``\\n``, ``\\x1b``, ..., cut to ``limit`` characters ending in '…' when longer."""
    if limit is not None:
        text = text[: limit + 1]  # escaping only lengthens: the rest can never be shown
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A user's value as it may appear in a message: its ``repr``, on one line, at most ``limit`` characters.

    ``shown("\\n")`` is ``'\\n'`` (escaped, quoted); ``shown(-5)`` is ``-5``.
    """
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails must not turn a one-line error into a traceback
        text = f"<{type(value).__name__}>"
    return one_line(text, limit)


class InputError(ValueError):
    """Bad user input: a file, a field and what to fix.

    ``str(error)`` is the whole one-line message, e.g.
    ``scenarios/x.yaml: agents.UK.troops: must be >= 0 (got -5)``; control characters in it are
    escaped and it is at most :data:`MESSAGE_CHARS` long, whatever the call site echoed.
    """

    def __str__(self) -> str:
        return one_line(super().__str__(), MESSAGE_CHARS)
