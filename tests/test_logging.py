"""How `nkru` logs: one plain line a record off a terminal, and `nkru run` writing off the loop."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator

import pytest

from bot.cli.support import load, logging_in_background


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    """The root logger, put back as it was afterwards (load() reconfigures it)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


class Capture(logging.Handler):
    """Keeps each record with the thread that emitted it."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.seen: list[tuple[str, str, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.levelname, self.format(record), threading.get_ident()))


def test_off_a_terminal_each_record_is_one_plain_line_with_its_date(
    clean_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rich wrapped a record to 80 columns when stderr was a file or a pipe (Docker, systemd).
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    load()
    message = "Feed with a long name: " + "word " * 40 + "END"
    logging.getLogger("bot.test").warning("%s", message)
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(f"WARNING bot.test: {message}")
    assert lines[0][:4].isdigit()  # the date first: "2026-12-07 14:35:40,123 …"


def test_logging_in_background_writes_from_its_own_thread_in_order_and_flushes_at_exit(
    clean_root: logging.Logger,
) -> None:
    for handler in list(clean_root.handlers):
        clean_root.removeHandler(handler)
    clean_root.setLevel(logging.DEBUG)
    everything, warnings = Capture(), Capture(logging.WARNING)
    clean_root.addHandler(everything)
    clean_root.addHandler(warnings)
    log = logging.getLogger("bot.test")
    with logging_in_background():
        assert clean_root.handlers != [everything, warnings]  # records go through the queue
        for number in range(200):
            log.info("poll %d: %s new", number, 3)
        try:
            raise ValueError("broken feed")
        except ValueError:
            log.exception("poll crashed")
    assert clean_root.handlers == [everything, warnings]  # put back
    caller = threading.get_ident()
    assert len(everything.seen) == 201  # none lost at exit
    assert [text for _, text, _ in everything.seen[:3]] == [
        "poll 0: 3 new",
        "poll 1: 3 new",
        "poll 2: 3 new",
    ]
    assert all(thread != caller for _, _, thread in everything.seen)
    level, text, _ = warnings.seen[0]  # each handler's own level still holds
    assert len(warnings.seen) == 1 and level == "ERROR"
    assert text.startswith("poll crashed") and "ValueError: broken feed" in text
