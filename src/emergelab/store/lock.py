"""One sweep per experiment folder, while any number of readers come and go.

DuckDB lets one process write a file or many processes read it, never both at once. A sweep
therefore does not keep the database open: it opens it only to write a finished group and closes
it again (see `Store`), so `analyze`, `metrics`, `report` and `export` can read the folder while the
sweep runs. What keeps a second sweep out of the same folder is this lock: an exclusive `flock` on
`FOLDER/.emergelab.lock`, held for the whole sweep. The kernel drops it when the holder dies, by
any signal, so a killed sweep never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from emergelab.store.db import StoreBusy

LOCK_NAME = ".emergelab.lock"


class FolderBusy(StoreBusy):
    """Another live process is running a sweep into this folder."""


class SweepLock:
    """Context manager: hold the folder's sweep lock or raise `FolderBusy` at once."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> SweepLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise FolderBusy(f"{self.path.parent} is being written by a running sweep (pid {holder}); "
                             "wait for it to end or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
