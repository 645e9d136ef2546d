"""Stopping cleanly: SIGTERM and SIGHUP behave like Ctrl-C, our worker processes are stopped at once, and the
process ends within a second whichever of its threads the signal reaches.

The command installs :func:`install_stop_handlers` before anything else (``sim.cli.entry_point``), so a
stop signal while it is still importing ends it with the same one line as later; a command wraps its
work in :func:`interrupt_on_signals`. On the first SIGINT, SIGTERM or SIGHUP the worker processes this
process started are terminated (a worker busy with a block would otherwise run it to the end while the
pool waits for it) and ``KeyboardInterrupt`` is raised in the main thread, so atomic writes discard
their temporary files and the command exits 130 with one line (:data:`INTERRUPTED_MESSAGE`).

Two things make that prompt for every command:

- the relay (inside :func:`interrupt_on_signals`): the kernel delivers a signal sent to the process to any
  of its threads that does not block it; Python runs the handler in the main thread only, and only once
  that thread wakes up. A main thread waiting on a lock (for a pool's futures, for pyabc's particle
  threads) wakes only when the lock is released, often seconds later. A relay thread reads the signal
  numbers CPython writes to its wakeup file descriptor and sends each one to the main thread itself,
  which interrupts its wait;
- :func:`prepare_interrupted_exit` (called by the command line once it has caught the interrupt): the
  interpreter's exit then skips collecting the heap (seconds after pyabc and SQLAlchemy), and ends with
  our exit code 130 even where CPython believes the interrupt went unhandled.

Importing this module is cheap (no :mod:`multiprocessing`, no :mod:`concurrent.futures`): it is the
first thing the command imports.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that stop a command like Ctrl-C does (SIGHUP does not exist on Windows)."""

INTERRUPTED_MESSAGE = "interrupted: nothing was written"
"""The one line of a command stopped by a signal (exit code 130)."""


def stop_workers() -> None:
    """Terminate every live child process started through :mod:`multiprocessing` (pool workers)."""
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None:  # never imported: no worker can have been started
        return
    _quiet_pool_teardown()
    for child in multiprocessing.active_children():
        try:
            child.terminate()
        except (OSError, ValueError):  # already gone, or closed by its pool meanwhile
            continue


def _quiet_pool_teardown() -> None:
    """Keep a process pool's manager thread from printing a traceback while its workers are stopped.

    When workers are terminated under a ``ProcessPoolExecutor``, its manager thread marks the pending
    futures broken; one that the main thread has just cancelled raises ``InvalidStateError`` in that
    thread (a race in the standard library), which would print a traceback after our one-line message.
    Only that error is silenced; any other thread exception still reaches the previous hook.
    """
    previous = threading.excepthook
    if getattr(previous, "_ceasefire_quiet", False):
        return

    def hook(args: threading.ExceptHookArgs) -> None:
        futures = sys.modules.get("concurrent.futures")  # imported by any pool that could raise it
        if futures is not None and args.exc_type is not None and issubclass(args.exc_type,
                                                                            futures.InvalidStateError):
            return
        previous(args)

    hook._ceasefire_quiet = True  # type: ignore[attr-defined]
    threading.excepthook = hook


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


def install_stop_handlers() -> None:
    """From now on, the first SIGINT, SIGTERM or SIGHUP raises ``KeyboardInterrupt`` (later ones only stop
    workers), for the whole life of the command: its start-up included, when the default SIGTERM and SIGHUP
    would end it without a word. :func:`interrupt_on_signals` blocks put these handlers back when they end.
    Outside the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return
    handler = _Handler()
    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)


@contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP stop our workers and raise ``KeyboardInterrupt`` in the
    main thread, whichever thread they reach (the relay, see the module's notes).

    Outside the main thread (where Python cannot install handlers) the block runs unchanged.
    The previous handlers are restored on exit, after the relay has ended (so a signal it sends on still
    finds ours).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _Handler()
    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        with _signals_to_main_thread():
            yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, signal.SIG_DFL if old is None else old)


@contextmanager
def _signals_to_main_thread() -> Iterator[None]:
    """Within the block, a stop signal that reaches another thread is sent on to the main thread (which
    then gets a second call of the handler if it got the signal itself too: that call only stops the workers
    again). Where a process has no ``pthread_kill`` (Windows), the block runs unchanged."""
    if not hasattr(signal, "pthread_kill"):
        yield
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    relay = threading.Thread(target=_relay, args=(read_end, threading.main_thread().ident), daemon=True,
                             name="stop-signal-relay")
    relay.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(write_end)  # the relay reads the end of the pipe and returns
        relay.join()
        os.close(read_end)


def _relay(read_end: int, main_thread: int) -> None:
    """Send the first of each stop signal CPython records on ``read_end`` to the thread ``main_thread``.

    Only the first: the one sent on is recorded on ``read_end`` in its turn, and the handler needs one
    call to interrupt the main thread (later ones only stop the workers again).
    """
    waiting = {int(signum) for signum in STOP_SIGNALS}
    while received := os.read(read_end, 64):
        for signum in received:
            if signum in waiting:
                waiting.discard(signum)
                with contextlib.suppress(OSError):  # the main thread is ending
                    signal.pthread_kill(main_thread, signum)


def prepare_interrupted_exit() -> None:
    """Let a process that has caught a stop signal's ``KeyboardInterrupt`` end at once, with its exit code.

    Call it only on the way out of the process (the command line does, before printing its one line).

    - A big heap (pyabc, SQLAlchemy and pandas leave some 300,000 objects) is collected, several times, by
      the interpreter's exit: 1.5-2.5 s on a busy machine after the one-line message. The garbage collector
      is frozen, so the exit skips it (a few hundredths of a second; the exit handlers, which stop the
      workers, still run).
    - CPython (3.11) notes an interrupt that escapes code run by ``exec`` or ``eval`` of a string as unhandled,
      even when it is caught later, and then ends the process with SIGINT (exit -2) instead of our code: a
      stop signal during the import of a library that ``exec``\\ s generated code (pyabc's do) does that.
      An empty ``exec`` clears the note (CPython clears it at the start of every such run).
    """
    gc.freeze()
    exec("")  # noqa: S102 - clears CPython's note of an unhandled interrupt (see above)
