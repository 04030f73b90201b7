"""bot/progress.py: a bar when the stream is a terminal, a log line at each tenth otherwise."""

from __future__ import annotations

import io
import logging

import pytest

from bot.progress import progress


def test_plain_lines_at_each_tenth_and_at_the_end(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.progress")
    now = iter([100.0, 102.5])
    with progress("building the site", unit="pages", stream=io.StringIO(), clock=lambda: next(now)) as bar:
        bar.total = 40
        for _ in range(40):
            bar.advance()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.progress"]
    assert lines[0] == "building the site: 0/40 pages (0%)"
    assert lines[4] == "building the site: 16/40 pages (40%)"
    assert lines[-2] == "building the site: 40/40 pages (100%)"
    assert lines[-1] == "building the site: done, 40/40 pages in 2.5 s"
    assert len(lines) == 12


def test_plain_lines_say_where_it_stopped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.progress")
    with pytest.raises(KeyboardInterrupt), progress("publishing 2025-W38", 10, stream=io.StringIO()) as bar:
        bar.update(3)
        raise KeyboardInterrupt
    assert caplog.records[-1].getMessage().startswith("publishing 2025-W38: stopped at 3/10 after ")


def test_no_total_no_percentages(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.progress")
    with progress("counting", stream=io.StringIO()) as bar:
        bar.advance(5)
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == ["counting: done, 5"]


def test_a_terminal_gets_a_bar_and_no_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.progress")
    out = io.StringIO()
    with progress("publishing 2025-W38", unit="chats", stream=out, force_terminal=True) as bar:
        bar.update(0, 7)
        for _ in range(7):
            bar.advance()
    shown = out.getvalue()
    assert "publishing 2025-W38" in shown and "7/7" in shown and "chats" in shown
    assert "━" in shown and "\x1b[" in shown  # a drawn bar, in colour
    assert caplog.records == []


def test_a_pipe_is_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.progress")
    out = io.StringIO()  # isatty() is False
    with progress("x", 1, stream=out) as bar:
        bar.advance()
    assert out.getvalue() == "" and len(caplog.records) == 3
