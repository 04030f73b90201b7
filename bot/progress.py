"""Progress of long command-line work (`hfweekly publish`, `hfweekly site build`): a bar on a terminal
(rich), plain log lines otherwise (a pipe, a file, cron, a service's journal).

    with progress("publishing 2025-W38", unit="chats") as bar:
        bar.total = len(chats)          # when it is known (it may be given to progress() instead)
        for chat in chats:
            ...
            bar.advance()               # or bar.update(done, total) from a callback with counts

The plain lines come through logging (logger `bot.progress`, INFO): one at each tenth of the way
and one at the end, so a log holds at most a dozen lines per task however long it is."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

log = logging.getLogger("bot.progress")
STEPS = 10  # plain lines: one at each tenth of the way


class Progress:
    """What a task reports: `advance(n)`, `update(completed, total)`, `total`. Shows nothing itself:
    progress() gives it a bar or log lines."""

    def __init__(self, description: str, total: int | None, unit: str, clock: Callable[[], float]) -> None:
        self.description, self.unit = description, unit
        self.completed = 0
        self._total = total
        self._clock = clock
        self.started = clock()
        self._listeners: list[Callable[[], None]] = []

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, value: int | None) -> None:
        self._total = value
        self._changed()

    def advance(self, n: int = 1) -> None:
        self.completed += n
        self._changed()

    def update(self, completed: int, total: int | None = None) -> None:
        """Absolute counts (a callback's `(done, total)`)."""
        self.completed = completed
        if total is not None:
            self._total = total
        self._changed()

    def seconds(self) -> float:
        return self._clock() - self.started

    def counts(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.completed}/{self._total}{unit}" if self._total is not None else f"{self.completed}{unit}"

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()


@contextmanager
def progress(
    description: str,
    total: int | None = None,
    *,
    unit: str = "",
    stream: TextIO | None = None,
    force_terminal: bool | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Progress]:
    """A Progress shown as a bar when `stream` (stderr by default) is a terminal, or `force_terminal`;
    else as log lines. The bar stays on screen at the end; the last plain line says how long it took."""
    out = stream if stream is not None else sys.stderr
    terminal = force_terminal if force_terminal is not None else out.isatty()
    task = Progress(description, total, unit, clock)
    if terminal:
        with _bar(task, out):
            yield task
    else:
        with _lines(task):
            yield task


@contextmanager
def _bar(task: Progress, out: TextIO) -> Iterator[None]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    console = Console(file=out, force_terminal=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(task.unit),
               TimeElapsedColumn())  # fmt: skip
    with RichProgress(*columns, console=console, redirect_stdout=False, redirect_stderr=False) as bar:
        shown = bar.add_task(task.description, total=task.total)
        task._listeners.append(lambda: bar.update(shown, completed=task.completed, total=task.total))
        yield


@contextmanager
def _lines(task: Progress) -> Iterator[None]:
    logged = -1  # the last tenth logged

    def maybe_log() -> None:
        nonlocal logged
        if not task.total:
            return
        step = min(task.completed * STEPS // task.total, STEPS)
        if step > logged:
            logged = step
            log.info("%s: %s (%d%%)", task.description, task.counts(), 100 * task.completed // task.total)

    task._listeners.append(maybe_log)
    maybe_log()
    try:
        yield
    except BaseException:
        log.info("%s: stopped at %s after %.1f s", task.description, task.counts(), task.seconds())
        raise
    log.info("%s: done, %s in %.1f s", task.description, task.counts(), task.seconds())


def status_line() -> Callable[[str], None] | None:
    """A one-line status on a terminal's stderr, rewritten in place (`hfweekly digest`'s steps); None
    when stderr is not a terminal (the steps are logged instead)."""
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message}…")
        sys.stderr.flush()

    return show
