"""`hfweekly publish` and `hfweekly subscribers` as processes: crashes, two publishers, bulk import."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.config import Settings
from bot.ledger import IN_DOUBT
from bot.store import Store
from bot.week import IsoWeek
from tests.conftest import CHANNEL
from tests.fakes.hf import FakeHF, twenty_papers
from tests.fakes.telegram import TOKEN, ApiError, FakeTelegram
from tests.fakes.telegram_html import parse_telegram_html
from tests.test_cli import hfweekly

WEEK = "2025-W36"
USERS = range(20_000, 20_120)


@pytest.fixture
def publish_env(cli_env: dict[str, str], fake_tg: FakeTelegram, fake_hf: FakeHF) -> dict[str, str]:
    """Twenty papers (two messages per chat) and 120 private subscribers' chats."""
    fake_hf.weeks[WEEK] = twenty_papers()
    for user in USERS:
        fake_tg.add_chat(user, "private")
    return cli_env | {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"{fake_tg.url}/bot",
        "HFWEEKLY_TOP_N": "20",
        "HFWEEKLY_SEND_RATE": "0",
        "HFWEEKLY_BROADCAST_CONCURRENCY": "8",
        "HFWEEKLY_PUBLISH_LOCK_SECONDS": "2",
        "PTB_TIMEDELTA": "true",
    }


async def add_subscribers(env: dict[str, str], tmp_path: Path) -> None:
    ids = "\n".join(str(u) for u in USERS)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "subscribers", "add", "-", env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate(ids.encode())
    assert proc.returncode == 0, err
    assert out.decode().count("added") == len(USERS)


def copies(fake: FakeTelegram) -> dict[int, Counter[str]]:
    """Per chat, how many times each distinct message text arrived."""
    result: dict[int, Counter[str]] = {}
    for sent in fake.sent:
        result.setdefault(sent.chat_id, Counter())[sent.text] += 1
    return result


async def killed_midway(
    env: dict[str, str], tmp_path: Path, fake: FakeTelegram, store: Store, after: int
) -> set[tuple[int, int]]:
    """Start `hfweekly publish`, SIGKILL it once `after` messages in all have arrived; the parts its
    ledger then holds in doubt."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "publish", WEEK, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await fake.wait_for(lambda: len(fake.sent) >= after, within=60)
    os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()
    await fake.idle()  # requests already in the fake finish there, as they would at Telegram
    assert len(fake.sent) < 2 * len(USERS)  # it really was killed midway
    ledger = await store.ledger(IsoWeek(2025, 36))
    return {(chat, i) for chat, entry in ledger.items() for i, mid in enumerate(entry.parts) if mid == IN_DOUBT}


@pytest.mark.parametrize("rate", ["0", "150"], ids=["unpaced", "paced"])
async def test_killed_twice_every_chat_gets_everything_and_only_sends_in_flight_repeat(
    publish_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, settings: Settings, redis: Redis, rate: str
) -> None:
    env = publish_env | {"HFWEEKLY_SEND_RATE": rate}  # paced: the workers queue for the limiter's slots
    await add_subscribers(env, tmp_path)
    store = Store(redis, prefix=settings.redis_prefix)
    fake_tg.delay = 0.02  # a little latency per message, so that the kill lands midway
    doubts = [await killed_midway(env, tmp_path, fake_tg, store, after=60)]
    doubts.append(await killed_midway(env, tmp_path, fake_tg, store, after=150))
    for in_doubt in doubts:
        # A part is in doubt only once its slot was taken, just before its request is written: at
        # most one per worker unpaced, and about as many as were in flight when paced.
        assert len(in_doubt) <= (8 if rate == "0" else 4), in_doubt

    result = await hfweekly(env, "publish", WEEK, cwd=tmp_path)
    assert result.status == 0, result.err
    per_chat = copies(fake_tg)
    parts = set(per_chat[USERS[0]])
    assert len(parts) == 2
    for user in USERS:
        assert set(per_chat[user]) == parts, f"chat {user} is missing a part"
        for text, n in per_chat[user].items():
            if n > 1:  # only a send in flight at a kill may arrive again, once per kill it was in flight at
                part = sorted(parts, key=lambda t: "Top 20" not in parse_telegram_html(t)).index(text)
                assert n <= 1 + sum((user, part) in in_doubt for in_doubt in doubts)


async def test_two_publishers_at_once_send_exactly_once(
    publish_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    await add_subscribers(publish_env, tmp_path)
    first, second = await asyncio.gather(
        hfweekly(publish_env, "publish", WEEK, cwd=tmp_path), hfweekly(publish_env, "publish", WEEK, cwd=tmp_path)
    )
    assert (first.status, second.status) == (0, 0), first.err + second.err
    outcomes = sorted([first.out, second.out])  # one sent everything; the other waited, then had nothing to do
    assert "sent 0, already sent 120" in outcomes[0] and "sent 120, already sent 0" in outcomes[1]
    for user in USERS:
        assert all(n == 1 for n in copies(fake_tg)[user].values())
        assert len(copies(fake_tg)[user]) == 2


async def test_publish_shows_its_progress_as_log_lines_or_a_bar(publish_env: dict[str, str], tmp_path: Path) -> None:
    await add_subscribers(publish_env, tmp_path)
    plain = await hfweekly(publish_env, "publish", WEEK, cwd=tmp_path)  # stderr is a pipe: log lines
    assert plain.status == 0, plain.err
    lines = [line.split("bot.progress: ", 1)[1] for line in plain.err.splitlines() if "bot.progress: " in line]
    assert lines[0] == f"publishing {WEEK}: 0/120 chats (0%)"
    assert f"publishing {WEEK}: 60/120 chats (50%)" in lines
    assert lines[-2] == f"publishing {WEEK}: 120/120 chats (100%)"
    assert lines[-1].startswith(f"publishing {WEEK}: done, 120/120 chats in ")
    assert len(lines) == 12  # a line a tenth, not one a chat

    again = await hfweekly(publish_env, "publish", WEEK, cwd=tmp_path, tty_stderr=True)  # a terminal: a bar
    assert again.status == 0, again.err
    assert "bot.progress" not in again.err
    assert f"publishing {WEEK}" in again.err and "120/120" in again.err and "━" in again.err
    assert "already sent 120" in again.out


async def test_dry_run_sends_nothing(publish_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram) -> None:
    await add_subscribers(publish_env, tmp_path)
    result = await hfweekly(
        publish_env | {"HFWEEKLY_CHANNELS": "@hf_weekly_ko"}, "publish", WEEK, "--dry-run", cwd=tmp_path
    )
    assert result.status == 0, result.err
    assert f"{WEEK}: 121 chats, 1 views" in result.out
    assert f"  {USERS[0]}\tprivate\twould send\tsummary.20.en.all.-, 2 messages" in result.out
    assert f"  {CHANNEL}\tchannel\twould send" in result.out  # the configured @name, looked up
    assert [s for s in fake_tg.sent if s.method == "sendMessage"] == []


async def test_publish_refuses_a_running_week_and_bad_input(publish_env: dict[str, str], tmp_path: Path) -> None:
    result = await hfweekly(publish_env, "publish", "this", cwd=tmp_path)
    assert result.status == 2 and "has not ended yet" in result.err
    result = await hfweekly(publish_env, "publish", "someday", cwd=tmp_path)
    assert result.status == 2 and "'someday' is not a week" in result.err
    no_token = {k: v for k, v in publish_env.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = await hfweekly(no_token, "publish", WEEK, cwd=tmp_path)
    assert result.status == 2 and "TELEGRAM_BOT_TOKEN is not set" in result.err


async def test_subscribers_list_add_remove(publish_env: dict[str, str], tmp_path: Path) -> None:
    result = await hfweekly(publish_env, "subscribers", "add", "111", "-1001234567890", "--thread", "7", cwd=tmp_path)
    assert result.status == 0
    assert "added 111 (private, topic 7)" in result.out and "added -1001234567890 (supergroup, topic 7)" in result.out
    result = await hfweekly(publish_env, "subscribers", "add", "-42", "--kind", "channel", cwd=tmp_path)
    assert "added -42 (channel)" in result.out
    result = await hfweekly(publish_env, "subscribers", "add", "@nope", "12x", "222", cwd=tmp_path)
    assert result.status == 1
    assert "'@nope' is not a chat id" in result.err and "'12x' is not a chat id" in result.err
    assert "added 222" in result.out  # the good ones are not lost

    listing = await hfweekly(publish_env | {"HFWEEKLY_CHANNELS": "@hf_weekly_ko"}, "subscribers", "list", cwd=tmp_path)
    defaults = "count=default day=default form=summary english=on topics='' only_topics=no paused=no"
    lines = listing.out.splitlines()
    assert f"111\tprivate\tactive\ttopic=7\t\t{defaults}" in lines
    assert f"-42\tchannel\tactive\t-\t\t{defaults}" in lines
    assert f"@hf_weekly_ko\tchannel\tconfigured\t-\t(the channels setting)\t{defaults}" in lines

    result = await hfweekly(publish_env, "subscribers", "remove", "111", "999", cwd=tmp_path)
    assert "removed 111" in result.out and "999 was not subscribed" in result.out
    listing = await hfweekly(publish_env, "subscribers", "list", cwd=tmp_path)
    assert not any(line.startswith("111\t") for line in listing.out.splitlines())


async def test_exit_status_1_when_chats_are_owed_a_retry(
    publish_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    await add_subscribers(publish_env, tmp_path)
    fake_tg.fail_next(USERS[0], ApiError(500, "Internal Server Error"))
    result = await hfweekly(publish_env, "publish", WEEK, cwd=tmp_path)
    assert result.status == 1, result.out + result.err
    assert "sent 119" in result.out and "1 chats owed a retry from" in result.out
    assert "stopped early" not in result.out


# --- chats' own settings and slots -----------------------------------------------------------------


async def test_subscribers_set_changes_a_chats_settings(publish_env: dict[str, str], tmp_path: Path) -> None:
    await hfweekly(publish_env, "subscribers", "add", "111", cwd=tmp_path)
    result = await hfweekly(
        publish_env, "subscribers", "set", "111", "count=5", "day=fri", "hour=18", "form=brief", "english=off",
        "topics=diffusion, RL", "paused=no", cwd=tmp_path,
    )  # fmt: skip
    line = "count=5 day=fri hour=18 form=brief english=off topics='diffusion,RL' only_topics=no paused=no"
    assert result.status == 0 and result.out.strip() == f"111: {line}", result.err
    listing = await hfweekly(publish_env, "subscribers", "list", cwd=tmp_path)
    assert f"111\tprivate\tactive\t-\t\t{line}" in listing.out.splitlines()


@pytest.mark.parametrize(
    ("pair", "valid"),
    [
        ("count=7", "valid values are 5 | 10 | 20 | default"),
        ("form=long", "valid values are brief | summary | full"),
        ("day=someday", "valid values are mon | tue | wed | thu | fri | sat | sun"),
        ("hour=25", "0 … 23"),
        ("colour=blue", "unknown setting 'colour'; the settings are: count, day, hour, form, english, topics"),
        ("topics=" + ",".join(f"t{i}" for i in range(11)), "more than 10 topics"),
    ],
)
async def test_subscribers_set_refuses_unknown_keys_and_values(
    publish_env: dict[str, str], tmp_path: Path, pair: str, valid: str
) -> None:
    result = await hfweekly(publish_env, "subscribers", "set", "111", "count=5", pair, cwd=tmp_path)
    assert result.status == 2 and valid in result.err and "nothing was changed" in result.err
    assert "Traceback" not in result.err
    listing = await hfweekly(publish_env, "subscribers", "set", "111", "paused=no", cwd=tmp_path)
    assert "count=default" in listing.out  # the good pair before the bad one was not saved either


async def test_publish_due_sends_the_chats_whose_slot_has_come(
    publish_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.slots import DAY_NAMES, last_fire, week_of

    settings = Settings()
    now = datetime.now(UTC)
    came, later = now.astimezone(settings.tz) - timedelta(hours=1), now.astimezone(settings.tz) + timedelta(days=2)
    due_chat, later_chat = USERS[0], USERS[1]
    await hfweekly(publish_env, "subscribers", "add", str(due_chat), str(later_chat), cwd=tmp_path)
    for chat, when in ((due_chat, came), (later_chat, later)):
        result = await hfweekly(
            publish_env, "subscribers", "set", str(chat), f"day={DAY_NAMES[when.weekday()]}", f"hour={when.hour}",
            cwd=tmp_path,
        )  # fmt: skip
        assert result.status == 0, result.err
    fire = last_fire(settings, f"{came.weekday()}-{came.hour:02d}", now)
    assert fire is not None
    fake_hf.weeks[str(week_of(settings, fire))] = twenty_papers()
    result = await hfweekly(publish_env, "publish", "--due", cwd=tmp_path)
    assert result.status == 0, result.out + result.err
    assert fake_tg.to(due_chat) and fake_tg.to(later_chat) == []
    again = await hfweekly(publish_env, "publish", "--due", cwd=tmp_path)
    assert again.status == 0 and "sent 1" not in again.out
    assert len(fake_tg.to(due_chat)) == 2  # twenty papers: two messages, once
    wrong = await hfweekly(publish_env, "publish", "--due", WEEK, cwd=tmp_path)
    assert wrong.status == 2 and "--due takes no WEEK" in wrong.err
