"""The capacity benchmark's child processes, and what it reads of the bot from outside.

`BotProcess` runs the installed ``nkru run`` console script (the worktree's code first on
PYTHONPATH) and always kills and reaps it; `ServerProcess` runs the feed server
(benchmarks/_capacity_server.py). Both children get SIGKILL from the kernel if the benchmark
dies first (PR_SET_PDEATHSIG), so neither can outlive it. `ProcSampler` reads CPU time and
peak RSS of the bot and its children from /proc; `Probe` times HTTP requests to the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.synchronize
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1


class BenchmarkError(Exception):
    """The run cannot go on; the message says why and what to look at."""


try:  # loaded now: between fork and exec only the call itself is safe
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """In the child, before exec: the kernel kills it when the benchmark's thread exits."""
    if _LIBC is not None and sys.platform == "linux":
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the bot binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nkru_script(given: str | None) -> Path:
    """The `nkru` console script: `given`, else the one beside this Python."""
    script = Path(given) if given else Path(sys.executable).parent / "nkru"
    if not script.is_file():
        raise BenchmarkError(
            f"{script}: no nkru console script — install the project (make setup) or pass --nkru"
        )
    return script


class BotProcess:
    """`nkru run` in `folder` with `env`; its output goes to files there."""

    def __init__(self, script: Path, folder: Path, env: dict[str, str]) -> None:
        self.script, self.folder, self.env = script, folder, env
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0  # time.monotonic() just before the process was created
        self._files: list[IO[bytes]] = []

    async def __aenter__(self) -> Self:
        out = (self.folder / "bot.stdout").open("wb")
        err = (self.folder / "bot.stderr").open("wb")
        self._files = [out, err]
        self.started_at = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            str(self.script), "run", cwd=self.folder, env=self.env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err,
            preexec_fn=_die_with_parent,
            # A group of its own: its parser pool (a forkserver and workers) outlives a
            # SIGKILLed bot unless the whole group is killed.
            start_new_session=True,
        )  # fmt: skip
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.stop(grace=0 if exc is not None else 30)
        finally:
            for file in self._files:
                file.close()

    @property
    def pid(self) -> int:
        """The bot's process id."""
        assert self.proc is not None
        return self.proc.pid

    def check_alive(self) -> None:
        """Raise BenchmarkError with the end of its stderr if the bot has exited."""
        assert self.proc is not None
        if self.proc.returncode is not None:
            raise BenchmarkError(
                f"the bot exited early with code {self.proc.returncode}; the end of its stderr:\n"
                + self.tail()
            )

    def tail(self, lines: int = 25) -> str:
        """The last lines the bot wrote to stderr."""
        path = self.folder / "bot.stderr"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(nothing)"

    async def stop(self, grace: float) -> int | None:
        """SIGTERM, up to `grace` seconds to finish, then SIGKILL to its whole process group
        (whatever of it is left, even after a clean exit); always reaped."""
        proc = self.proc
        if proc is None:
            return None
        if proc.returncode is None and grace > 0:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group's id is the bot's pid
        return await proc.wait()


class ServerProcess:
    """The feed server child; it exits when its stdin closes."""

    def __init__(self, plan_json: str) -> None:
        self.plan_json = plan_json
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks._capacity_server", self.plan_json,
            cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)},
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        except TimeoutError:
            line = b""
        if not line.startswith(b"port "):
            await self.__aexit__(None, None, None)
            raise BenchmarkError(f"the feed server did not start (it said {line!r})")
        self.port = int(line.split()[1])
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 10)
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


# --------------------------------------------------------------------------- /proc


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    """The children of `pid`, from each of its threads' `children` file."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children...)."""
    found, frontier = [], [pid]
    while frontier:
        below = []
        for parent in frontier:
            with contextlib.suppress(OSError):
                below += _children(parent)
        found += below
        frontier = below
    return found


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent not idle since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    del idle, iowait  # not busy
    return (user + nice + system + irq + softirq + steal) / TICKS


def named_cpu_seconds(name: str) -> dict[int, float]:
    """CPU seconds of each process of the machine whose command name is `name` (e.g. every
    PostgreSQL server process), by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            if (entry / "comm").read_text().strip() == name:
                found[int(entry.name)] = cpu_seconds(int(entry.name))
    return found


@dataclass(slots=True)
class ProcSampler:
    """Samples the bot's children (they may come and go) for peak RSS and CPU time."""

    pid: int
    child_peak_mb: dict[int, float] = field(default_factory=dict)
    child_cpu: dict[int, float] = field(default_factory=dict)

    def sample(self) -> None:
        """Read every current child once."""
        for child in descendants(self.pid):
            with contextlib.suppress(OSError, IndexError, ValueError):
                self.child_peak_mb[child] = max(
                    self.child_peak_mb.get(child, 0.0), peak_rss_mb(child)
                )
                self.child_cpu[child] = cpu_seconds(child)

    def cpu(self) -> tuple[float, float]:
        """(main process, children) CPU seconds so far (children: as last sampled)."""
        self.sample()
        return cpu_seconds(self.pid), sum(self.child_cpu.values())


# --------------------------------------------------------------------------- HTTP probes


@dataclass(slots=True)
class Probe:
    """GET `url` every `period` seconds; (sent at, seconds to answer) per request.

    When the answer is `/healthz`'s, the bot's own loop watch (bot.loop_watch) comes with it:
    its stalls of 50 ms or more (wall-clock time → seconds) and its largest since it started."""

    url: str
    period: float
    timeout: float = 30.0
    samples: list[tuple[float, float]] = field(default_factory=list)
    failures: int = 0
    loop_stalls: dict[float, float] = field(default_factory=dict)
    loop_largest: tuple[float, float] | None = None

    async def run(self, alive: Callable[[], bool]) -> None:
        """Probe until cancelled; before the bot first answers, refusals are not counted."""
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while alive():
                sent = time.monotonic()
                try:
                    # One request, one answer: the web panel answers an unknown path with a
                    # redirect to its sign-in page, which is not the loop's latency to follow.
                    async with session.get(self.url, allow_redirects=False) as response:
                        body = await response.read()
                    self.samples.append((sent, time.monotonic() - sent))
                    if response.content_type == "application/json":
                        self._read_loop_watch(json.loads(body).get("loop"))
                except (aiohttp.ClientError, OSError, TimeoutError):
                    self.failures += bool(self.samples)
                await asyncio.sleep(max(0.0, sent + self.period - time.monotonic()))

    def _read_loop_watch(self, loop: dict[str, Any] | None) -> None:
        if not loop or loop.get("largest_stall_at") is None:
            return
        for stall in loop["recent_stalls"]:
            self.loop_stalls[_wall(stall["at"])] = stall["ms"] / 1000
        self.loop_largest = (_wall(loop["largest_stall_at"]), loop["largest_stall_ms"] / 1000)

    def worst_loop_stall(
        self, start: float = 0.0, end: float = float("inf")
    ) -> tuple[float, float] | None:
        """(monotonic time, seconds) of the loop watch's largest stall in [start, end) (in
        this process's time.monotonic()); without bounds, its largest since it started."""
        to_monotonic = time.monotonic() - time.time()
        if start == 0.0 and end == float("inf"):
            if self.loop_largest is None:
                return None
            at, seconds = self.loop_largest
            return at + to_monotonic, seconds
        found = [
            (seconds, at + to_monotonic)
            for at, seconds in self.loop_stalls.items()
            if start <= at + to_monotonic < end
        ]
        if not found:
            return None
        seconds, at = max(found)
        return at, seconds

    async def run_apart(self) -> None:
        """`run` in a process of its own, until this is cancelled: the benchmark's own work in
        this process (the fake Slack API, reading the feed server's state) then cannot delay an
        answer and count as the bot's stall. The samples' clock (CLOCK_MONOTONIC) is the
        machine's, the same in both processes."""
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_probe_apart,
            args=(self.url, self.period, self.timeout, stop, sender),
            daemon=True,
        )
        child.start()
        try:
            await asyncio.to_thread(child.join)  # it only ends early if it fails
        finally:
            stop.set()
            if receiver.poll(self.timeout + 5):
                self.samples, self.failures, self.loop_stalls, self.loop_largest = receiver.recv()
            child.join(5)

    def worst(self, start: float = 0.0, end: float = float("inf")) -> tuple[float, float] | None:
        """(sent at, seconds) of the longest answer among requests sent in [start, end)."""
        found = [(seconds, sent) for sent, seconds in self.samples if start <= sent < end]
        if not found:
            return None
        seconds, sent = max(found)
        return sent, seconds


def _probe_apart(
    url: str,
    period: float,
    timeout: float,
    stop: multiprocessing.synchronize.Event,
    results: multiprocessing.connection.Connection,
) -> None:
    """The probe's process: probe until `stop` is set, then send (samples, failures) back."""
    probe = Probe(url, period, timeout)
    asyncio.run(probe.run(lambda: not stop.is_set()))
    results.send((probe.samples, probe.failures, probe.loop_stalls, probe.loop_largest))


def _wall(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
