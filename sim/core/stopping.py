"""Stopping at once: what :func:`sim.core.signals.interrupt_on_signals` needs besides its handlers, so that a
stop signal ends a command within a second whichever thread it reaches and however big the heap is.

- :func:`stop_signals_to_main_thread`: the kernel delivers a signal sent to the process to any of its
  threads that does not block it; Python runs the handler in the main thread only, and only once that
  thread wakes up. A main thread waiting on a lock (for a pool's futures, for pyabc's particle threads)
  wakes only when the lock is released, often seconds later (when the workers finish their block),
  because stop_workers runs in the very handler that is waiting. A relay thread reads the signal
  numbers CPython writes to its wakeup file descriptor and sends each one to the main thread itself,
  which interrupts its wait.
- :func:`exit_fast_when_interrupted`: the interpreter's exit after an interrupt skips collecting the
  heap (seconds after pyabc and SQLAlchemy), and ends with our exit code 130 even where CPython
  believes the interrupt went unhandled.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
from collections.abc import Iterator

from sim.core.signals import STOP_SIGNALS


@contextlib.contextmanager
def stop_signals_to_main_thread() -> Iterator[None]:
    """Within the block, a stop signal that reaches another thread is sent on to the main thread.

    Use it inside :func:`sim.core.signals.interrupt_on_signals` (whose handler takes a second call, which
    only stops the workers again, when the main thread got the signal itself too). Outside the main thread,
    or where a process has no wakeup descriptor (Windows), the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_kill"):
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


@contextlib.contextmanager
def exit_fast_when_interrupted() -> Iterator[None]:
    """Let a process interrupted inside the block (``KeyboardInterrupt``) end at once, with exit code 130.

    - A big heap (pyabc, SQLAlchemy and pandas leave some 300,000 objects) is collected, several times, by
      the interpreter's exit: 1.5-2.5 s on a busy machine after the one-line message. The garbage collector
      is frozen, so the exit skips it (a few hundredths of a second; the exit handlers, which stop the
      workers, still run).
    - CPython (3.11) notes an interrupt that escapes code run by ``exec`` or ``eval`` of a string as unhandled,
      even when it is caught later, and then ends the process with SIGINT (exit -2) instead of our code: a
      stop signal during the import of a library that ``exec``\\ s generated code (pyabc's do) does that.
      An empty ``exec`` clears the note (CPython clears it at the start of every such run).
    """
    try:
        yield
    except KeyboardInterrupt:
        gc.freeze()
        exec("")  # noqa: S102 - clears CPython's note of an unhandled interrupt (see above)
        raise
