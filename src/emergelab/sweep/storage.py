"""Files a worker writes that must outlive it: mid-run snapshots, on a path every node can reach.

A snapshot is only useful if the process that retries a killed group can read it — on one machine
that is the experiment folder, on a Ray cluster a shared filesystem path or an fsspec URL
(`executor.storage`, e.g. `s3://bucket/emergelab` or `/mnt/shared/emergelab`). Writes go to a
temporary name first and are then moved into place, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os

import fsspec


class SharedStorage:
    """A folder (local path or fsspec URL) of whole files, named by the caller."""

    def __init__(self, root: str):
        self.root = root
        self.fs, self.path = fsspec.core.url_to_fs(root)

    def _full(self, name: str) -> str:
        return f"{self.path.rstrip('/')}/{name}"

    def write(self, name: str, data: bytes) -> None:
        self.fs.makedirs(self.path, exist_ok=True)
        tmp = self._full(f".{name}.{os.getpid()}.tmp")
        self.fs.pipe_file(tmp, data)
        self.fs.mv(tmp, self._full(name))

    def read(self, name: str) -> bytes | None:
        full = self._full(name)
        return self.fs.cat_file(full) if self.fs.exists(full) else None

    def remove(self, name: str) -> None:
        full = self._full(name)
        if self.fs.exists(full):
            self.fs.rm(full)


def snapshot_name(run_ids: list[str]) -> str:
    """One snapshot per group of runs trained together (a different member set is a different group)."""
    return hashlib.sha256("\n".join(run_ids).encode()).hexdigest()[:20] + ".safetensors"
