"""Processes that clean up after themselves, whatever ends the sweep.

Two halves. A worker must not outlive its driver: killed with SIGKILL the driver runs no cleanup
code at all, so each worker watches for it itself (`die_with_parent`): Linux's parent-death
signal kills it the moment its parent dies, and a watch thread that polls the parent and the
driver covers other systems and the moment before the signal was armed. The local pool forks its
workers from a fork server (started once, with torch imported), which exits when the driver's end
of its pipe closes — so workers start in milliseconds and arm the signal at once, instead of
after seconds of imports during which a freshly spawned worker could not yet watch anything. The driver, on SIGTERM or SIGINT
(Ctrl-C), turns the signal into an exception (`stop_on_signals`), so the executor's `finally`
stops its workers and the caller can say how far the sweep got.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCH_SECONDS = 1.0


class Interrupted(KeyboardInterrupt):
    """The driver received a stop signal (SIGINT or SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent(driver_pid: int) -> None:
    """In a worker process: exit as soon as its parent (the driver, or the driver's fork server,
    which exits with the driver) or the driver itself is gone, however it died."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent or not _alive(driver_pid):  # died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, driver_pid), daemon=True, name="driver-watch").start()


def _watch(parent: int, driver_pid: int) -> None:
    while True:
        time.sleep(_WATCH_SECONDS)
        if os.getppid() != parent or not _alive(driver_pid):
            os._exit(1)


def _raise_interrupted(signum: int, _frame) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise `Interrupted` in the main thread (elsewhere,
    where Python cannot install handlers, the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
