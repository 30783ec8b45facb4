"""One writer per experiment folder: an exclusive lock file.

A sweep takes ``DIR/sweep.lock`` before it writes anything in ``DIR`` and removes it when
it ends (finished, failed or interrupted). The file is created with ``O_CREAT | O_EXCL``,
which the operating system makes atomic, so of two sweeps started at once exactly one
gets it; the other is refused, naming who holds the folder.

The lock records the holder's process id, host name, start time and command line, and
on Linux the boot id and the process's start tick (from ``/proc``), so a lock is known
to be **stale** when its holder is on this host and that process is gone (killed, or the
machine rebooted; a pid reused by another program is told apart by its start tick). A
stale lock is reported, never silently taken over; ``--clear-stale-lock`` clears it. A
lock held from another host cannot be checked from here: the message says so.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.store import FILE_MODE, now

LOCK_NAME = "sweep.lock"


class LockError(Exception):
    """The folder is locked by another sweep, or by a stale lock (message is one line)."""


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _start_tick(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])  # field 22 of stat(5)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass
class Holder:
    """Who holds a lock (what the lock file says)."""

    pid: int
    host: str
    started: str
    command: str = ""
    boot_id: str | None = None
    start_tick: int | None = None

    def describe(self) -> str:
        """``pid 123 on host lab-7, started 2026-01-05T10:00:00+00:00``."""
        return f"pid {self.pid} on host {self.host}, started {self.started}"

    def is_stale(self) -> bool | None:
        """True if the holder certainly no longer runs, False if it does, None if this
        host cannot tell (the lock is from another host)."""
        if self.host != socket.gethostname():
            return None
        boot = _boot_id()
        if self.boot_id and boot and self.boot_id != boot:
            return True  # the machine rebooted since
        if not _alive(self.pid):
            return True
        tick = _start_tick(self.pid)
        return self.start_tick is not None and tick is not None and tick != self.start_tick


class FolderLock:
    """The exclusive lock of an experiment folder (a context manager).

    Args:
        folder: The experiment folder (created if missing).
        clear_stale: Remove a stale lock (its holder is gone) instead of refusing.
    """

    def __init__(self, folder: str | Path, clear_stale: bool = False):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.clear_stale = clear_stale
        self.held = False
        self.cleared: Holder | None = None

    def holder(self) -> Holder | None:
        """Who holds the lock now (None if nobody, or the file is unreadable)."""
        try:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            return Holder(**{k: data.get(k) for k in Holder.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            LockError: If another sweep holds it, or a stale lock is left and
                ``clear_stale`` is false; the message says what to do.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": now(),
            "command": " ".join(sys.argv),
            "boot_id": _boot_id(),
            "start_tick": _start_tick(os.getpid()),
        }
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            except FileExistsError:
                self._refuse_or_clear()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, indent=1)
            self.held = True
            return
        raise LockError(f"{str(self.folder)!r} could not be locked ({self.path} keeps coming back)")

    def _refuse_or_clear(self) -> None:
        holder = self.holder()
        if holder is None:
            raise LockError(
                f"{str(self.folder)!r} is locked by {self.path.name}, which cannot be read; "
                "if no sweep is writing this folder, delete that file"
            )
        stale = holder.is_stale()
        if stale is None:
            raise LockError(
                f"{str(self.folder)!r} is locked by a sweep on another host ({holder.describe()}); "
                f"this host cannot check it: if it is no longer running, delete {self.path}"
            )
        if not stale:
            raise LockError(
                f"{str(self.folder)!r} is being written by another sweep ({holder.describe()}); "
                "wait for it to finish or use another --out folder"
            )
        if not self.clear_stale:
            raise LockError(
                f"{str(self.folder)!r} has a stale lock from a sweep that is no longer running "
                f"({holder.describe()}); if no other sweep uses this folder, rerun with "
                "--clear-stale-lock"
            )
        self.cleared = holder
        self.path.unlink(missing_ok=True)

    def release(self) -> None:
        """Remove the lock if this process holds it."""
        if self.held:
            self.held = False
            holder = self.holder()
            if holder is None or holder.pid == os.getpid():
                self.path.unlink(missing_ok=True)

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
