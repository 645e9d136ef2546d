"""Stopping cleanly: SIGTERM and SIGHUP behave like Ctrl-C, and our worker processes are stopped at once.

A command wraps its work in :func:`interrupt_on_signals`. On the first SIGINT, SIGTERM or SIGHUP the
worker processes this process started are terminated (a worker busy with a block would otherwise
run it to the end while the pool waits for it) and ``KeyboardInterrupt`` is raised in the main
thread, so atomic writes discard their temporary files and the command exits 130 with one line.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that stop a command like Ctrl-C does (SIGHUP does not exist on Windows)."""


def stop_workers() -> None:
    """Terminate every live child process started through :mod:`multiprocessing` (pool workers)."""
    for child in multiprocessing.active_children():
        try:
            child.terminate()
        except (OSError, ValueError):  # already gone, or closed by its pool meanwhile
            continue


class _Handler:
    """Raises ``KeyboardInterrupt`` once; later signals only stop workers, so cleanup is not cut short.

    Inside :func:`signals_held` the interrupt is only noted, and raised when the block ends.
    """

    def __init__(self) -> None:
        self.fired = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        global _pending
        stop_workers()
        if self.fired:
            return
        self.fired = True
        if _held:
            _pending = True
            return
        raise KeyboardInterrupt


_held = 0
"""Depth of :func:`signals_held` blocks now running."""

_pending = False
"""A stop signal arrived inside a :func:`signals_held` block."""


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold stop signals for a short step that must not be cut in half (swapping folders).

    The signals are blocked for this thread (so Python's own Ctrl-C handler waits too), and one
    arriving through another thread is only noted by our handler; either takes effect when the block ends.
    """
    global _held, _pending
    mask = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS) if mask else None
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if _held == 0 and _pending:
            _pending = False
            raise KeyboardInterrupt


@contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP stop our workers and raise ``KeyboardInterrupt``.

    Outside the main thread (where Python cannot install handlers) the block runs unchanged.
    The previous handlers are restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _Handler()
    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, signal.SIG_DFL if old is None else old)
