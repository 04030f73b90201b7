"""The delivery ledger: one entry per (week, chat), its states, and the pure transitions between them.

A part is marked IN_DOUBT immediately before its request is written, and gets its message id the
moment Telegram answers; so after a crash exactly the requests that were in flight are in doubt.
Nothing here does I/O: the broadcaster saves each entry it gets back (bot/deliver.py).

    (new) ──▶ SENDING ──every part sent──▶ SENT
                │   ▲
      failed or │   │ a later run, once retry_at has come (backoff: 2, 4, 8 … 60 minutes)
        unknown ▼   │
               FAILED ──still failing after GIVE_UP_AFTER and MIN_FAILURES──▶ GAVE_UP
                       └──a part sent MAX_DOUBTS times, never with a known outcome──▶ GAVE_UP
    any send: blocked, kicked, chat not found ──▶ INACTIVE (sent again if the chat comes back)
              group upgraded to a supergroup  ──▶ MIGRATED (the new chat id gets its own entry)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.models import ChatKind

IN_DOUBT = -1  # a part whose request was written but whose outcome is not known
RETRY_BASE = timedelta(minutes=2)  # the first retry of a failed or doubtful send
RETRY_CAP = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=6)  # a chat is given up only after failing across runs this long…
MIN_FAILURES = 5  # …and this many times
# A part sent this many times without ever learning the outcome (no answer: a timeout, a broken
# connection) is not sent again: it may well have arrived. So a chat gets at most one extra copy of a
# part. Sends Telegram answered with an error, or that never left, are failures, not doubts: a short
# outage of that kind exhausts nobody (see MIN_FAILURES and GIVE_UP_AFTER).
MAX_DOUBTS = 2


class State(StrEnum):
    SENDING = "sending"  # owed: parts left to send
    SENT = "sent"
    FAILED = "failed"  # the last send failed or has an unknown outcome: owed a retry at retry_at
    INACTIVE = "inactive"  # the chat cannot receive messages: its subscription was deactivated
    MIGRATED = "migrated"  # the group became a supergroup: see migrated_to
    GAVE_UP = "gave_up"  # failed across runs for hours: admins were told


class Outcome(StrEnum):
    """What one send came to."""

    SENT = "sent"
    UNKNOWN = "unknown"  # the request was written and no answer came (timeout, broken connection, 504)
    INACTIVE = "inactive"  # blocked, kicked, chat not found: not sent
    FAILED = "failed"  # answered with an error (4xx, 5xx but 504) or never written (no connection): not sent
    MIGRATED = "migrated"  # not sent: the chat has a new id


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    message_id: int | None = None  # SENT
    new_chat_id: int | None = None  # MIGRATED
    error: str = ""


class Skip(StrEnum):
    """Why a run sends nothing to a chat."""

    ALREADY = "already"
    WAITING = "waiting"  # a retry that is not due yet
    INACTIVE = "inactive"  # a configured channel that refused this week's sends
    GAVE_UP = "gave_up"
    MIGRATED = "migrated"


@dataclass(frozen=True)
class LedgerEntry:
    chat_id: int
    kind: ChatKind
    parts: tuple[int | None, ...]  # per message: its id once sent, IN_DOUBT, or None
    created: datetime
    updated: datetime
    state: State = State.SENDING
    thread_id: int | None = None
    runs: int = 0  # runs that tried this chat
    failures: int = 0  # failed or doubtful sends since the last success
    doubts: int = 0  # sends of the current part whose outcome stayed unknown
    first_failure: datetime | None = None
    retry_at: datetime | None = None
    last_error: str = ""
    migrated_to: int | None = None
    layout: str = ""  # the view the chat's messages were laid out with ("": the week's plan before views)

    @property
    def owed(self) -> bool:
        """Does this chat still have to get the week (now or at its retry)?"""
        return self.state in (State.SENDING, State.FAILED)

    def next_part(self) -> int | None:
        """The first part not known to be delivered (never sent, or in doubt), if any."""
        return next((i for i, part in enumerate(self.parts) if not _delivered(part)), None)

    def delivered(self) -> list[tuple[int, int]]:
        """(index, message id) of every part known to be delivered."""
        return [(i, part) for i, part in enumerate(self.parts) if part is not None and _delivered(part)]


def _delivered(part: int | None) -> bool:
    return part is not None and part != IN_DOUBT


def new_entry(
    chat_id: int, kind: ChatKind, thread_id: int | None, parts: int, now: datetime, layout: str = ""
) -> LedgerEntry:
    return LedgerEntry(chat_id, kind, (None,) * parts, created=now, updated=now, thread_id=thread_id, layout=layout)


def sent_any(entry: LedgerEntry) -> bool:
    """Has any part gone out (or possibly gone out)? Then the chat keeps the layout it was sent."""
    return any(part is not None for part in entry.parts)


def begin(
    entry: LedgerEntry, parts: int, now: datetime, *, came_back: bool = True, layout: str | None = None
) -> LedgerEntry | Skip:
    """What a run does with a recipient's entry: skip it (and why), or the entry to send from.
    `came_back`: an INACTIVE chat is sent again (its subscription is active again); False for a
    configured channel, which is a recipient whether it accepts messages or not. `parts` and `layout`:
    the messages of the chat's view now, taken unless a part went out already."""
    if entry.state is State.SENT:
        return Skip.ALREADY
    if entry.state is State.MIGRATED:
        return Skip.MIGRATED
    if entry.state is State.GAVE_UP:
        return Skip.GAVE_UP
    if entry.state is State.FAILED and entry.retry_at is not None and now < entry.retry_at:
        return Skip.WAITING
    if entry.state is State.INACTIVE and not came_back:
        return Skip.INACTIVE
    kept = sent_any(entry)
    slots = entry.parts if kept or len(entry.parts) == parts else (None,) * parts
    view = entry.layout if kept or layout is None else layout
    # INACTIVE here means the chat came back (only active chats are recipients): it is sent again.
    return replace(
        entry, state=State.SENDING, parts=slots, layout=view, runs=entry.runs + 1, retry_at=None, updated=now
    )


def sending(entry: LedgerEntry, part: int, now: datetime) -> LedgerEntry:
    """The entry to save immediately before part `part`'s request is written."""
    return replace(entry, parts=_with(entry.parts, part, IN_DOUBT), updated=now)


def record(entry: LedgerEntry, part: int, result: Result, now: datetime) -> LedgerEntry:
    """The entry after part `part`'s send came to `result`."""
    outcome = result.outcome
    if outcome is Outcome.SENT:
        assert result.message_id is not None
        parts = _with(entry.parts, part, result.message_id)
        done = all(_delivered(p) for p in parts)
        return replace(
            entry,
            parts=parts,
            state=State.SENT if done else State.SENDING,
            failures=0,
            doubts=0,
            first_failure=None,
            retry_at=None,
            last_error="",
            updated=now,
        )
    if outcome is Outcome.INACTIVE:
        return replace(entry, parts=_with(entry.parts, part, None), state=State.INACTIVE, last_error=result.error,
                       updated=now)  # fmt: skip
    if outcome is Outcome.MIGRATED:
        return replace(entry, parts=_with(entry.parts, part, None), state=State.MIGRATED,
                       migrated_to=result.new_chat_id, last_error="", updated=now)  # fmt: skip
    # UNKNOWN keeps the part in doubt (a later run sends it again); FAILED: it was not sent.
    unknown = outcome is Outcome.UNKNOWN
    return _failure(entry, _with(entry.parts, part, IN_DOUBT if unknown else None), unknown, result.error, now)


def fail(entry: LedgerEntry, error: str, now: datetime) -> LedgerEntry:
    """The entry of a chat whose handling broke (not a send Telegram answered: a bug, a render that
    failed): owed a retry like a failed send. A part left in doubt stays in doubt (it may have gone)."""
    return _failure(entry, entry.parts, IN_DOUBT in entry.parts, error, now)


def _failure(
    entry: LedgerEntry, parts: tuple[int | None, ...], unknown: bool, error: str, now: datetime
) -> LedgerEntry:
    failures, doubts = entry.failures + 1, entry.doubts + unknown
    first = entry.first_failure or now
    changed = replace(entry, parts=parts, failures=failures, doubts=doubts, first_failure=first, updated=now)
    if doubts >= MAX_DOUBTS:
        why = f"{error} (sent {doubts} times, never with a known outcome: it may have arrived)"
        return replace(changed, state=State.GAVE_UP, retry_at=None, last_error=why)
    if failures >= MIN_FAILURES and now - first >= GIVE_UP_AFTER:
        return replace(changed, state=State.GAVE_UP, retry_at=None, last_error=error)
    return replace(changed, state=State.FAILED, retry_at=now + backoff(failures), last_error=error)


def backoff(failures: int) -> timedelta:
    """How long after its `failures`-th failed send a chat is tried again."""
    wait: timedelta = RETRY_BASE * 2 ** max(0, failures - 1)
    return min(wait, RETRY_CAP)


def _with(parts: tuple[int | None, ...], index: int, value: int | None) -> tuple[int | None, ...]:
    return (*parts[:index], value, *parts[index + 1 :])


@dataclass
class Report:
    """What one publish run of a week did, chat by chat (kept in Redis for /status and /metrics)."""

    week: str
    started: datetime
    seconds: float = 0.0
    chats: int = 0
    views: int = 0  # distinct views (form, count, English titles, topics) among the chats
    renders: int = 0  # views laid out and rendered by this run (once per view)
    sent: int = 0  # chats completed by this run
    already: int = 0  # chats completed by an earlier run
    failed: int = 0  # chats owed a retry: their send failed
    unknown: int = 0  # chats owed a retry: their send has an unknown outcome
    waiting: int = 0  # chats whose retry is not due yet
    unresolved: int = 0  # configured @channels that could not be looked up: tried again later
    unreadable: int = 0  # chats skipped because their ledger entry cannot be read (never resent)
    inactive: int = 0
    migrated: int = 0
    gave_up: int = 0
    messages: int = 0  # messages sent by this run
    plain_resends: int = 0  # parts Telegram could not parse, resent as plain text
    pending_papers: int = 0
    complete: bool = True  # False when the run stopped (shutdown, lock lost) before trying every chat
    next_retry: datetime | None = None  # the earliest retry owed
    errors: dict[str, int] = field(default_factory=dict)
    given_up: list[str] = field(default_factory=list)  # "chat: last error" of the chats given up now

    @property
    def owed(self) -> int:
        """Chats that still have to get the week after this run."""
        return self.failed + self.unknown + self.waiting + self.unresolved

    @property
    def done(self) -> bool:
        return self.complete and not self.owed

    def count(self, entry: LedgerEntry, skip: Skip | None = None) -> None:
        """Count a chat by how this run left it: skipped (and why), or by the entry as last saved."""
        if skip is Skip.ALREADY:
            self.already += 1
        elif skip is Skip.GAVE_UP:
            self.gave_up += 1
        elif skip is Skip.WAITING:
            self.waiting += 1
            self._retry(entry.retry_at)
        elif skip is Skip.INACTIVE:
            self.inactive += 1
        elif skip is Skip.MIGRATED:
            pass  # the chat's new id is a recipient of its own
        elif entry.state is State.SENT:
            self.sent += 1
        elif entry.state is State.INACTIVE:
            self.inactive += 1
        elif entry.state is State.MIGRATED:
            self.migrated += 1
        elif entry.state is State.GAVE_UP:
            self.gave_up += 1
            self.given_up.append(f"{entry.chat_id}: {entry.last_error}")
        elif entry.state is State.FAILED:
            if IN_DOUBT in entry.parts:
                self.unknown += 1
            else:
                self.failed += 1
            reason = entry.last_error[:80]
            self.errors[reason] = self.errors.get(reason, 0) + 1
            self._retry(entry.retry_at)

    def _retry(self, at: datetime | None) -> None:
        if at is not None and (self.next_retry is None or at < self.next_retry):
            self.next_retry = at

    def line(self) -> str:
        return (
            f"{self.week}: {self.chats} chats, sent {self.sent}, already sent {self.already}, failed {self.failed}, "
            f"unknown {self.unknown}, waiting {self.waiting}, unresolved {self.unresolved}, inactive {self.inactive}, "
            f"migrated {self.migrated}, gave up {self.gave_up}, unreadable {self.unreadable}; {self.messages} messages in {self.seconds:.1f} s; "
            f"{self.pending_papers} papers pending translation; {self.renders} renders for {self.views} views"
        )
