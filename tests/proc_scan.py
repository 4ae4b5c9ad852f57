"""Which processes a test started, read from /proc (Linux): by parent chain and by a marker.

A process is named by (pid, start time): a pid can be reused once its process is gone, the
pair cannot. A zombie counts as gone (it has exited; only its exit status waits to be read).
Child processes take the marker variable with the rest of their environment, so a process
that a killed child left behind is still found after it was reparented.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import NamedTuple

MARK_VARIABLE = "TEST_PROCESS_MARK"
PROC = Path("/proc")


class Running(NamedTuple):
    """One process: its pid and its start time (clock ticks after boot)."""

    pid: int
    started: int


class _Stat(NamedTuple):
    ppid: int
    state: str
    started: int


def _stat(pid: int) -> _Stat | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:  # gone meanwhile
        return None
    # The command name (field 2) may hold spaces and parentheses: fields follow the last ")".
    fields = raw[raw.rindex(")") + 2 :].split()
    return _Stat(ppid=int(fields[1]), state=fields[0], started=int(fields[19]))


def _table() -> dict[int, _Stat]:
    table = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat.state not in "ZX":
            table[int(entry.name)] = stat
    return table


def descendants(root: int) -> set[Running]:
    """The live processes whose parent chain leads to `root` (its children, theirs, …)."""
    table = _table()
    found: set[Running] = set()
    parents = {root}
    while parents:
        children = {pid for pid, stat in table.items() if stat.ppid in parents}
        found |= {Running(pid, table[pid].started) for pid in children}
        parents = children
    return found


def marked(mark: str) -> set[Running]:
    """The live processes whose environment has MARK_VARIABLE=`mark`."""
    wanted = f"{MARK_VARIABLE}={mark}".encode()
    found = set()
    for pid, stat in _table().items():
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to read
            if wanted in (PROC / str(pid) / "environ").read_bytes().split(b"\0"):
                found.add(Running(pid, stat.started))
    return found


def still_running(processes: set[Running]) -> set[Running]:
    """Those of `processes` that have not exited."""
    return {
        p
        for p in processes
        if (stat := _stat(p.pid)) and stat.started == p.started and stat.state not in "ZX"
    }


def kill_all(processes: set[Running]) -> None:
    """SIGKILL each of `processes` still running (a failed test leaves none behind)."""
    for process in still_running(processes):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)


def described(processes: set[Running]) -> list[str]:
    """Each of `processes` still running as "pid: command line", for an assertion message."""
    lines = []
    for process in sorted(still_running(processes)):
        with contextlib.suppress(OSError):
            argv = (PROC / str(process.pid) / "cmdline").read_bytes().split(b"\0")
            lines.append(f"{process.pid}: {b' '.join(argv).decode(errors='replace')[:200]}")
    return lines
