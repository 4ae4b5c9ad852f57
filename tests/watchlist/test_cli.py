"""`nkru watchlist check|show` and `nkru match` through the real typer app."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from tests.watchlist.conftest import DEFAULT_WATCHLISTS, MINIMAL

Write = Callable[..., Path]
runner = CliRunner()

ARTICLES = [
    {"id": "a1", "title": "Russia and North Korea open Tumen road bridge", "summary": ""},
    {"id": 2, "title": "Weather in Moscow", "summary": "Snow.", "link": "https://x.example/2"},
    {"id": "a3", "title": "Мост через реку Туманную", "summary": "КНДР и Россия"},
]


def jsonl(rows: list[dict[str, object]], bad: dict[int, str] | None = None) -> str:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    for index, line in sorted((bad or {}).items()):
        lines.insert(index, line)
    return "\n".join(lines) + "\n"


def test_check_ok() -> None:
    result = runner.invoke(app, ["watchlist", "check", str(DEFAULT_WATCHLISTS)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 8 themes, ")
    assert result.stdout.rstrip().endswith("terms in 1 file")


def test_check_reports_problems(write: Write) -> None:
    path = write(MINIMAL.replace('"#2e86de"', '"#12345"'))
    result = runner.invoke(app, ["watchlist", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:" in result.stderr and "themes[0].colour" in result.stderr
    assert result.stdout == ""


def test_show_prints_the_effective_rules() -> None:
    result = runner.invoke(
        app, ["watchlist", "show", str(DEFAULT_WATCHLISTS), "--theme", "tumen-bridge"]
    )
    assert result.exit_code == 0, result.output
    assert "tumen-bridge: Tumen River bridge" in result.stdout
    assert "Tumen [word ×1.2]" in result.stdout
    assert "Tumangang [word fuzzy]" in result.stdout
    assert "arms-transfers" not in result.stdout


def test_show_escapes_markup(write: Write) -> None:
    path = write(MINIMAL.replace('"road bridge"', '"[bold]road bridge"'))
    result = runner.invoke(app, ["watchlist", "show", str(path)])
    assert result.exit_code == 0, result.output
    assert "[bold]road bridge" in result.stdout


def test_show_unknown_theme() -> None:
    result = runner.invoke(app, ["watchlist", "show", str(DEFAULT_WATCHLISTS), "--theme", "x"])
    assert result.exit_code == 2
    assert "no theme 'x'" in result.stderr and "tumen-bridge" in result.stderr


def _output(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_match_a_file(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(jsonl(ARTICLES), encoding="utf-8")
    result = runner.invoke(app, ["match", "--watchlist", str(DEFAULT_WATCHLISTS), str(source)])
    assert result.exit_code == 0, result.output
    out = _output(result.stdout)
    assert [row["id"] for row in out] == ["a1", 2, "a3"]
    assert [row["themes"] for row in out] == [["tumen-bridge"], [], ["tumen-bridge"]]
    why = out[0]["why"]["tumen-bridge"]  # type: ignore[index]
    assert {
        "term": "Tumen",
        "matched": "Tumen",
        "field": "title",
        "kind": "exact",
        "similarity": 100.0,
        "points": 2.4,
        "place": "title",
        "about": 2.4,
        "mention": "",
    } in why["hits"]
    assert (why["subject"], why["passing"]) == ("main", {})
    assert out[1]["why"] == {}
    assert "Туманную" in result.stdout  # not escaped to \\u sequences


def test_match_stdin_with_bad_lines() -> None:
    bad = {1: "not json", 3: '{"id": "x", "summary": "no title"}', 4: "[1, 2]"}
    text = jsonl(ARTICLES, bad)
    result = runner.invoke(app, ["match", "--watchlist", str(DEFAULT_WATCHLISTS), "-"], input=text)
    assert result.exit_code == 1
    assert [row["id"] for row in _output(result.stdout)] == ["a1", 2, "a3"]  # in order
    errors = result.stderr.splitlines()
    assert errors[0].startswith("error: stdin, line 2: not valid JSON")
    assert errors[1].startswith('error: stdin, line 4: "title" is missing')
    assert errors[2].startswith("error: stdin, line 5: a JSON list, not an object")
    assert errors[3] == "3 bad lines skipped"


def test_match_skips_blank_lines_and_takes_a_missing_summary() -> None:
    text = '\n{"id": "t", "title": "Kim and Putin sign treaty"}\n\n'
    result = runner.invoke(app, ["match", "--watchlist", str(DEFAULT_WATCHLISTS), "-"], input=text)
    assert result.exit_code == 0, result.output
    assert _output(result.stdout)[0]["themes"] == ["summits"]


def test_match_missing_file_and_bad_watchlist(tmp_path: Path, write: Write) -> None:
    missing = runner.invoke(
        app, ["match", "--watchlist", str(DEFAULT_WATCHLISTS), str(tmp_path / "none.jsonl")]
    )
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    broken = write(MINIMAL.replace('slug = "tumen-bridge"', 'slug = "Bad Slug"'))
    result = runner.invoke(app, ["match", "--watchlist", str(broken), "-"], input="")
    assert result.exit_code == 2
    assert "themes[0].slug" in result.stderr


def test_show_says_which_theme_is_a_verdict() -> None:
    args = ["watchlist", "show", str(DEFAULT_WATCHLISTS), "--theme"]
    evasion = runner.invoke(app, [*args, "sanctions-evasion"])
    assert evasion.exit_code == 0 and "a specific term in the title makes it a subject" in (
        evasion.stdout
    )
    bridge = runner.invoke(app, [*args, "tumen-bridge"])
    assert "makes it a subject" not in bridge.stdout
