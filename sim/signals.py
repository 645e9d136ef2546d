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
    """Raises ``KeyboardInterrupt`` once; later signals only stop workers, so cleanup is not cut short."""

    def __init__(self) -> None:
        self.fired = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        stop_workers()
        if not self.fired:
            self.fired = True
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
