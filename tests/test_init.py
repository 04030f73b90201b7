"""`hfweekly init` as an operator runs it: a subprocess against the fake Telegram and Claude and the real
Redis; answers by flags (--yes) or typed in (stdin, as a pipe: getpass's terminal is not there)."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from tests.conftest import REDIS_URL
from tests.fakes.anthropic import FakeClaude
from tests.fakes.telegram import TOKEN, FakeTelegram

KEY = "sk-ant-good-key-not-a-secret"
WRONG_TOKEN = "123456:WRONG-token-not-a-secret"
WRONG_KEY = "sk-ant-wrong-key-not-a-secret"
SECRETS = (TOKEN, KEY, WRONG_TOKEN, WRONG_KEY, TOKEN.partition(":")[2])


@pytest.fixture
def init_env(cli_env: dict[str, str], fake_tg: FakeTelegram, fake_claude: FakeClaude) -> dict[str, str]:
    """No secrets in the environment; Telegram's and Claude's base URLs at the fakes."""
    fake_claude.valid_keys = {KEY}
    env = {k: v for k, v in cli_env.items() if k not in {"ANTHROPIC_API_KEY", "TELEGRAM_BOT_TOKEN", "REDIS_URL"}}
    return env | {"TELEGRAM_API_BASE_URL": f"{fake_tg.url}/bot"}


async def init(env: dict[str, str], cwd: Path, *args: str, answers: str | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "init", *args, env=env, cwd=cwd,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate((answers or "").encode()), timeout=120)
    assert proc.returncode is not None
    for secret in SECRETS:
        assert secret not in out.decode() + err.decode()  # never printed, whatever happened
    return proc.returncode, out.decode(), err.decode()


def written(path: Path) -> Settings:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return Settings(_env_file=path)  # type: ignore[call-arg]


def env_lines(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings() read in this process must see only the file under test."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "HFWEEKLY_", "TELEGRAM_", "REDIS_")):
            monkeypatch.delenv(name)


async def test_flags_write_a_checked_env_file(
    init_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_claude: FakeClaude, clean_environ: None
) -> None:
    status, out, err = await init(
        init_env, tmp_path, "--yes", "--telegram-token", TOKEN, "--anthropic-key", KEY, "--admins", "900, 901",
        "--redis-url", REDIS_URL,
    )  # fmt: skip
    assert status == 0, err
    assert "wrote .env (mode 0600)" in out and "bot @" in out and "answers" in out
    assert fake_claude.calls == 1 and fake_claude.api_key(0) == KEY  # checked live
    settings = written(tmp_path / ".env")
    assert settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value() == TOKEN
    assert settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value() == KEY
    assert settings.admins == [900, 901] and settings.redis_url == REDIS_URL
    assert "HFWEEKLY_ADMINS=900,901\n" in (tmp_path / ".env").read_text()


async def test_a_bad_flag_writes_nothing(init_env: dict[str, str], tmp_path: Path) -> None:
    status, _, err = await init(init_env, tmp_path, "--yes", "--telegram-token", WRONG_TOKEN, "--anthropic-key", KEY)
    assert status == 1 and "token was rejected" in err and "nothing written" in err
    status, _, err = await init(init_env, tmp_path, "--yes", "--telegram-token", TOKEN, "--anthropic-key", WRONG_KEY)
    assert status == 1 and "API key was rejected" in err
    status, _, err = await init(init_env, tmp_path, "--yes", "--telegram-token", "hello", "--anthropic-key", KEY)
    assert status == 1 and "not a bot token" in err
    status, _, err = await init(init_env, tmp_path, "--yes", "--anthropic-key", KEY)
    assert status == 2 and "Telegram bot token" in err and "pass it as a flag" in err
    status, _, err = await init(
        init_env,
        tmp_path,
        "--yes",
        "--telegram-token",
        TOKEN,
        "--anthropic-key",
        KEY,
        "--redis-url",
        "redis://127.0.0.1:1/0",
    )
    assert status == 1 and "no answer" in err
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text("top_n = \n")
    status, _, err = await init(init_env, tmp_path, "--yes", "--telegram-token", TOKEN, "--anthropic-key", KEY)
    assert status == 2 and "settings.toml is not valid TOML" in err and "Traceback" not in err
    assert not (tmp_path / ".env").exists()


async def test_typed_answers_are_checked_and_asked_again(
    init_env: dict[str, str], tmp_path: Path, fake_claude: FakeClaude, clean_environ: None
) -> None:
    answers = "\n".join([
        "nonsense", WRONG_TOKEN, TOKEN,  # not a token; refused by Telegram; good
        WRONG_KEY, KEY,  # refused by Claude; good
        "me", "900",  # not an id; good
        "redis://127.0.0.1:1/0", REDIS_URL,  # nothing answers; good
    ]) + "\n"  # fmt: skip
    status, _, err = await init(init_env, tmp_path, answers=answers)
    assert status == 0, err
    assert err.count("try again") == 5
    assert "not a bot token" in err and "token was rejected" in err and "API key was rejected" in err
    assert "not numeric Telegram user ids: me" in err
    settings = written(tmp_path / ".env")
    assert settings.admins == [900] and settings.redis_url == REDIS_URL
    assert settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value() == KEY


async def test_defaults_and_an_early_end_of_input(init_env: dict[str, str], tmp_path: Path) -> None:
    status, _, err = await init(init_env, tmp_path, "--no-check", answers=f"{TOKEN}\n")
    assert status == 2 and "end of input" in err and not (tmp_path / ".env").exists()
    status, out, err = await init(init_env, tmp_path, "--no-check", answers=f"{TOKEN}\n{KEY}\n\n\n")
    assert status == 0, err
    assert "not checked" in out
    lines = env_lines(tmp_path / ".env")
    assert lines["REDIS_URL"] == "redis://127.0.0.1:6379/0" and lines["HFWEEKLY_ADMINS"] == ""


async def test_an_existing_file_is_kept_unless_overwriting_is_agreed(
    init_env: dict[str, str], tmp_path: Path, clean_environ: None
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TELEGRAM_BOT_TOKEN=old\nHFWEEKLY_TOP_N=5\nexport REDIS_URL=redis://old:6379/0\n")
    before = env_file.read_text()
    flags = ("--telegram-token", TOKEN, "--anthropic-key", KEY, "--no-check")
    status, _, err = await init(init_env, tmp_path, *flags, answers="n\n")
    assert status == 1 and "left as it was" in err and env_file.read_text() == before
    status, _, err = await init(init_env, tmp_path, *flags, answers="\n")  # no answer is no
    assert status == 1 and env_file.read_text() == before
    status, _, err = await init(init_env, tmp_path, *flags, "--yes")
    assert status == 0, err
    settings = written(env_file)
    assert settings.top_n == 5  # the other settings are kept
    assert settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value() == TOKEN
    assert "old" not in env_file.read_text()

    env_file.write_text("garbage\n")
    status, _, err = await init(init_env, tmp_path, *flags, answers="y\n\n\n")
    assert status == 0, err
    assert env_lines(env_file)["TELEGRAM_BOT_TOKEN"] == TOKEN
    assert "garbage" in env_file.read_text().splitlines()  # what init does not own is not its to drop
