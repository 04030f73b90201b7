"""`hfweekly init`: write a .env for a first run. Asks for the Telegram token, the Claude key, the admins
and Redis (what no flag gives), checks each live as `hfweekly check` does (bot/check.py: getMe, a tiny
Claude call, a Redis answer), asks again for one that fails, and writes the file with mode 0600.

Secrets are read without echo on a terminal (getpass) and never printed; without a terminal the answers
are read from stdin, one a line. `--yes` asks nothing: the flags give the values. An existing file is
overwritten only after a yes, or with --force/--yes; its other lines (settings init does not ask for)
are kept. Nothing is written unless every value given passed its check."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr, ValidationError

from bot.config import Settings
from bot.errors import EXIT_FAILED, EXIT_OK, EXIT_STOPPED, EXIT_USAGE, ConfigError
from bot.logs import redact

TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{10,}$")
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
ATTEMPTS = 5  # answers to one question before giving up
NAMES = ("TELEGRAM_BOT_TOKEN", "ANTHROPIC_API_KEY", "HFWEEKLY_ADMINS", "REDIS_URL")


class Abort(Exception):
    """Stop without writing: the message, and the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Prompter:
    """Questions on stderr, answers from the terminal (secrets without echo) or from stdin's lines."""

    interactive: bool

    def ask(self, question: str, *, secret: bool = False, default: str = "") -> str:
        if not self.interactive:
            raise Abort(f"{question.rstrip(': ')}: not given (--yes asks nothing; pass it as a flag)", EXIT_USAGE)
        shown = f"{question} [{default}]: " if default else f"{question}: "
        if sys.stdin.isatty():
            answer = getpass.getpass(shown) if secret else input(shown)
        else:
            sys.stderr.write(shown)
            sys.stderr.flush()
            line = sys.stdin.readline()
            sys.stderr.write("\n")  # the answer from a pipe is not echoed: end the question's line
            if not line:
                raise Abort("no answer (end of input); nothing written", EXIT_USAGE)
            answer = line.rstrip("\r\n")
        return answer.strip() or default

    def confirm(self, question: str) -> bool:
        return self.ask(f"{question} (y/N)").lower() in {"y", "yes", "예", "네"}


def init(args: argparse.Namespace) -> int:
    path = Path(args.env_file)
    prompter = Prompter(interactive=not args.yes)
    secrets = [s for s in (args.telegram_token, args.anthropic_key) if s]
    try:
        kept = _existing(path, prompter, overwrite=args.force or args.yes)
        values, notes = asyncio.run(_collect(args, prompter, secrets, check=not args.no_check))
        _write(path, kept, values)
    except Abort as exc:
        print(f"hfweekly init: {redact(str(exc), secrets)}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("\nhfweekly init: stopped; nothing written", file=sys.stderr)
        return EXIT_STOPPED
    print(f"wrote {path} (mode 0600): " + "; ".join(notes))
    print("next: hfweekly check, then hfweekly run")
    return EXIT_OK


def _existing(path: Path, prompter: Prompter, *, overwrite: bool) -> list[str]:
    """The existing file's lines that set something else (kept), once overwriting it is agreed."""
    if not path.exists():
        return []
    if not overwrite and not (prompter.interactive and prompter.confirm(f"{path} exists. Overwrite it?")):
        raise Abort(f"{path} exists; left as it was (--force overwrites it)", EXIT_FAILED)
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if line.split("=", 1)[0].removeprefix("export ").strip() not in NAMES]


Check = Callable[[str], Awaitable[str | None]]  # a value -> None if good, else what is wrong


async def _collect(
    args: argparse.Namespace, prompter: Prompter, secrets: list[str], *, check: bool
) -> tuple[dict[str, str], list[str]]:
    from bot import check as live

    base = _base_settings()
    notes: list[str] = []

    async def token_ok(value: str) -> str | None:
        if not TOKEN.match(value):
            return "that is not a bot token (it looks like 123456789:AAH…, from @BotFather)"
        if not check:
            return None
        ok, _, detail = await live.check_telegram(base.model_copy(update={"telegram_bot_token": SecretStr(value)}))
        if not ok:
            return detail
        notes.append(f"TELEGRAM_BOT_TOKEN ({detail})")
        return None

    async def key_ok(value: str) -> str | None:
        if re.search(r"\s", value):
            return "an API key has no spaces"
        if not check:
            return None
        ok, _, detail = await live.check_claude(base.model_copy(update={"anthropic_api_key": SecretStr(value)}))
        if not ok:
            return detail
        notes.append(f"ANTHROPIC_API_KEY ({detail})")
        return None

    async def admins_ok(value: str) -> str | None:
        parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        bad = [p for p in parts if not p.lstrip("-").isdigit()]
        return f"not numeric Telegram user ids: {', '.join(bad)} (ask @userinfobot for yours)" if bad else None

    async def redis_ok(value: str) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            return "must start with redis://, rediss:// or unix://"
        if not check:
            return None
        ok, _, detail = await live.check_redis(base.model_copy(update={"redis_url": value}))
        if not ok:
            return detail
        notes.append(f"REDIS_URL ({detail})")
        return None

    values = {
        "TELEGRAM_BOT_TOKEN": await _value(
            args.telegram_token, "Telegram bot token (from @BotFather)", token_ok, prompter, secrets, secret=True
        ),
        "ANTHROPIC_API_KEY": await _value(
            args.anthropic_key, "Anthropic API key (console.anthropic.com)", key_ok, prompter, secrets, secret=True
        ),
        "HFWEEKLY_ADMINS": await _value(
            args.admins, "Admins' Telegram user ids, comma-separated (empty: none)", admins_ok, prompter, secrets,
            optional=True,
        ),
        "REDIS_URL": await _value(
            args.redis_url, "Redis URL (empty: none; nothing persists)", redis_ok, prompter, secrets,
            default=DEFAULT_REDIS, optional=True,
        ),
    }  # fmt: skip
    values["HFWEEKLY_ADMINS"] = ",".join(
        p.strip() for p in values["HFWEEKLY_ADMINS"].replace(";", ",").split(",") if p.strip()
    )
    if not check:
        notes.append("not checked (--no-check)")
    notes.append(f"admins {values['HFWEEKLY_ADMINS'] or 'none'}")
    notes.append(f"Redis {values['REDIS_URL'] or 'none'}")
    return values, notes


async def _value(
    given: str | None, question: str, check: Check, prompter: Prompter, secrets: list[str], *,
    secret: bool = False, default: str = "", optional: bool = False,
) -> str:  # fmt: skip
    """A flag's value (checked; a bad one ends init), or the answer to the question, asked again while
    its check fails."""
    if given is not None:
        if (problem := await check(given.strip())) is not None:
            raise Abort(f"{question.split(' (')[0]}: {problem}; nothing written", EXIT_FAILED)
        return given.strip()
    if not prompter.interactive:
        if optional:
            return ""
        prompter.ask(question)  # raises: --yes without the flag
    for _ in range(ATTEMPTS):
        answer = prompter.ask(question, secret=secret, default=default)
        if secret and answer:
            secrets.append(answer)
        if not answer and not optional:
            print("  needed: the bot cannot work without it", file=sys.stderr)
            continue
        if (problem := await check(answer)) is None:
            return answer
        print(f"  ✗ {redact(problem, secrets)}; try again", file=sys.stderr)
    raise Abort(f"{question.split(' (')[0]}: no good answer after {ATTEMPTS} tries; nothing written", EXIT_FAILED)


def _base_settings() -> Settings:
    """Settings from the environment only (base URLs, model), not from the .env being replaced."""
    try:
        return Settings(_env_file=None)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise Abort(f"invalid environment: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", EXIT_USAGE) from exc
    except ConfigError as exc:  # a broken settings.toml
        raise Abort(str(exc), EXIT_USAGE) from exc


def _write(path: Path, kept: list[str], values: dict[str, str]) -> None:
    """The file, whole or not at all (a temporary file renamed over it), readable by its owner only."""
    lines = ["# Written by `hfweekly init`. Secrets: keep this file to yourself (mode 0600)."]
    lines += [f"{name}={value}" for name, value in values.items() if value or name == "HFWEEKLY_ADMINS"]
    lines += [line for line in kept if not line.startswith("# Written by `hfweekly init`")]
    directory = path.resolve().parent
    fd, temporary = tempfile.mkstemp(prefix=".env.", dir=directory)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
