"""The Docker image: locked installs, a non-root user, a data volume, a health check that works.

No Docker engine runs here, so the image itself is not built in the suite; what can be checked
without one is: the Dockerfile's instructions, the build context it gets (.dockerignore) and
its HEALTHCHECK command, run for real against a /healthz server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
INSTRUCTIONS = re.sub(r"\\\n\s*", " ", DOCKERFILE).splitlines()


def _instructions(name: str) -> list[str]:
    return [line[len(name) :].strip() for line in INSTRUCTIONS if line.startswith(name + " ")]


def test_every_stage_starts_from_a_pinned_python_image() -> None:
    bases = [line.split()[0] for line in _instructions("FROM")]

    assert bases, "no FROM"
    for base in bases:
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), f"{base}: pin the version"


def test_dependencies_come_from_the_locks_with_their_hashes() -> None:
    installs = [run for run in _instructions("RUN") if "pip install" in run]
    requirement_installs = [
        part for run in installs for part in run.split("&&") if "pip install" in part
    ]

    locked = [part for part in requirement_installs if "-r requirements/" in part]
    assert {"requirements/run.lock", "requirements/build.lock"} <= {
        word for part in locked for word in part.split() if word.endswith(".lock")
    }
    for part in requirement_installs:
        assert "--no-deps" in part, f"unlocked dependencies could slip in: {part.strip()}"
        if "-r requirements/" in part:
            assert "--require-hashes" in part, part.strip()


def test_the_bot_runs_as_a_user_with_a_volume_for_its_data() -> None:
    users = _instructions("USER")

    assert users and users[-1] not in ("root", "0")
    assert "/data" in " ".join(_instructions("VOLUME"))
    assert "/data/" in " ".join(_instructions("ENV"))


def test_the_build_context_leaves_out_venvs_and_databases() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()

    assert {".venv", "storage/*.db", ".git"} <= set(ignored)


def _healthcheck_command() -> list[str]:
    (line,) = _instructions("HEALTHCHECK")
    command: list[str] = json.loads(line.split(" CMD ", 1)[1])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def _exit_code(command: list[str], port: int) -> int:
    env = {**os.environ, "NKRU_HTTP_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        return await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_healthcheck_asks_the_port_nkru_http_port_names() -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    command = _healthcheck_command()
    try:
        healthy = await _exit_code(command, port)
    finally:
        await runner.cleanup()
    nobody_listening = await _exit_code(command, port)

    assert healthy == 0
    assert nobody_listening != 0


def test_the_image_has_the_library_psycopg_loads() -> None:
    """psycopg (procrastinate's driver) needs libpq at import; the slim image has none."""
    final = DOCKERFILE.rsplit("FROM ", 1)[1]
    assert "apt-get install -y --no-install-recommends libpq5" in final
