"""The ledger's pure transitions, by tables: every state × every outcome, and what a run does with
an entry in each state (the way arq tests its pure time functions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.ledger import (
    GIVE_UP_AFTER,
    IN_DOUBT,
    MAX_DOUBTS,
    LedgerEntry,
    Outcome,
    Result,
    Skip,
    State,
    backoff,
    begin,
    new_entry,
    record,
    sending,
)
from bot.models import ChatKind

NOW = datetime(2025, 9, 22, 0, 0, tzinfo=UTC)
RESULTS = {
    Outcome.SENT: Result(Outcome.SENT, message_id=77),
    Outcome.UNKNOWN: Result(Outcome.UNKNOWN, error="TimedOut: timed out"),
    Outcome.INACTIVE: Result(Outcome.INACTIVE, error="Forbidden: bot was blocked by the user"),
    Outcome.FAILED: Result(Outcome.FAILED, error="Bad Request: something"),
    Outcome.MIGRATED: Result(Outcome.MIGRATED, new_chat_id=-1009),
}


def entry_in(state: State, *, failures: int = 0) -> LedgerEntry:
    """A two-part entry in `state`, its first part in flight (as when a send's outcome comes in)."""
    entry = sending(new_entry(1, ChatKind.PRIVATE, None, 2, NOW), 0, NOW)
    first = NOW - timedelta(hours=1) if failures else None
    return replace(entry, state=state, failures=failures, first_failure=first)


# Outcome of part 0 of a two-part entry -> (state, part 0 afterwards, failures, retry due in)
EXPECTED = {
    Outcome.SENT: (State.SENDING, 77, 0, None),  # one part left
    Outcome.UNKNOWN: (State.FAILED, IN_DOUBT, 1, timedelta(minutes=2)),  # sent again by a later run
    Outcome.INACTIVE: (State.INACTIVE, None, 0, None),
    Outcome.FAILED: (State.FAILED, None, 1, timedelta(minutes=2)),
    Outcome.MIGRATED: (State.MIGRATED, None, 0, None),
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_state_by_every_outcome(state: State, outcome: Outcome) -> None:
    """What a send's outcome does does not depend on the state the entry was in."""
    after = record(entry_in(state), 0, RESULTS[outcome], NOW)
    expected_state, part, failures, retry = EXPECTED[outcome]
    assert (after.state, after.parts[0], after.parts[1], after.failures) == (expected_state, part, None, failures)
    assert after.retry_at == (NOW + retry if retry else None)
    assert after.updated == NOW
    assert after.last_error == RESULTS[outcome].error
    assert after.migrated_to == (-1009 if outcome is Outcome.MIGRATED else None)


def test_the_last_part_sent_completes_the_entry() -> None:
    entry = record(entry_in(State.SENDING), 0, RESULTS[Outcome.SENT], NOW)
    entry = record(sending(entry, 1, NOW), 1, Result(Outcome.SENT, message_id=78), NOW)
    assert (entry.state, entry.parts, entry.owed) == (State.SENT, (77, 78), False)


def test_a_success_forgets_earlier_failures() -> None:
    entry = record(entry_in(State.FAILED, failures=3), 0, RESULTS[Outcome.SENT], NOW)
    assert (entry.failures, entry.first_failure, entry.retry_at) == (0, None, None)


@pytest.mark.parametrize(
    ("failures", "failing_for", "given_up"),
    [
        (3, GIVE_UP_AFTER * 2, False),  # long, but only the 4th failure
        (4, GIVE_UP_AFTER, True),  # the 5th failure, after hours
        (10, GIVE_UP_AFTER - timedelta(minutes=1), False),  # many, but within a short outage
    ],
)
def test_a_chat_is_given_up_after_failing_across_runs_for_hours(
    failures: int, failing_for: timedelta, given_up: bool
) -> None:
    entry = replace(entry_in(State.FAILED), failures=failures, first_failure=NOW - failing_for)
    after = record(entry, 0, RESULTS[Outcome.FAILED], NOW)
    assert (after.state is State.GAVE_UP) is given_up
    assert (after.retry_at is None) is given_up


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(1, timedelta(minutes=2)), (2, timedelta(minutes=4)), (5, timedelta(minutes=32)), (6, timedelta(hours=1)),
     (20, timedelta(hours=1))],
)  # fmt: skip
def test_backoff(failures: int, wait: timedelta) -> None:
    assert backoff(failures) == wait


# State at the start of a run -> what the run does (a Skip, or the state it sends from)
BEGIN = {
    State.SENDING: State.SENDING,  # a crashed run: the part in doubt goes again
    State.SENT: Skip.ALREADY,
    State.FAILED: State.SENDING,  # its retry is due
    State.INACTIVE: State.SENDING,  # the chat came back (only active subscriptions are recipients)
    State.MIGRATED: Skip.MIGRATED,
    State.GAVE_UP: Skip.GAVE_UP,
}


@pytest.mark.parametrize("state", list(State))
def test_what_a_run_does_with_each_state(state: State) -> None:
    started = begin(entry_in(state), 2, NOW)
    if isinstance(BEGIN[state], Skip):
        assert started is BEGIN[state]
    else:
        assert isinstance(started, LedgerEntry)
        assert (started.state, started.runs, started.next_part()) == (BEGIN[state], 1, 0)


def test_a_retry_that_is_not_due_waits() -> None:
    entry = replace(entry_in(State.FAILED), retry_at=NOW + timedelta(minutes=1))
    assert begin(entry, 2, NOW) is Skip.WAITING
    assert isinstance(begin(entry, 2, NOW + timedelta(minutes=1)), LedgerEntry)


def test_a_new_plan_resets_only_an_entry_that_sent_nothing() -> None:
    untouched = new_entry(1, ChatKind.PRIVATE, None, 2, NOW)
    started = begin(untouched, 3, NOW)
    assert isinstance(started, LedgerEntry) and started.parts == (None, None, None)
    half = record(sending(untouched, 0, NOW), 0, RESULTS[Outcome.SENT], NOW)
    started = begin(half, 3, NOW)
    assert isinstance(started, LedgerEntry) and started.parts == (77, None)


def test_a_part_in_doubt_is_sent_at_most_max_doubts_times() -> None:
    entry = entry_in(State.SENDING)
    for n in range(1, MAX_DOUBTS + 1):
        entry = record(sending(entry, 0, NOW), 0, RESULTS[Outcome.UNKNOWN], NOW)
        assert entry.doubts == n
    assert entry.state is State.GAVE_UP and "never with a known outcome" in entry.last_error
    fine = record(sending(replace(entry_in(State.SENDING), doubts=1), 0, NOW), 0, RESULTS[Outcome.SENT], NOW)
    assert fine.doubts == 0  # a delivered part starts the next one afresh
    refused = record(replace(entry_in(State.SENDING), doubts=1), 0, RESULTS[Outcome.FAILED], NOW)
    assert refused.state is State.FAILED  # a refused send is no doubt


def test_a_configured_channel_that_refused_is_not_asked_again() -> None:
    assert begin(entry_in(State.INACTIVE), 2, NOW, came_back=False) is Skip.INACTIVE
