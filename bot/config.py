"""Settings: settings.toml < .env < environment. The only module that reads the environment.

The configuration files (settings.toml, prompt.md, glossary.toml, brief.md) ship inside the package
(bot/defaults/, read with importlib.resources); a file of the same name in the override directory
(HFWEEKLY_CONFIG_DIR, else ./config) replaces the packaged one, file by file."""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from datetime import timedelta
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.errors import ConfigError

CONFIG_FILES = ("settings.toml", "prompt.md", "glossary.toml", "brief.md")
DEFAULTS: Traversable = files("bot") / "defaults"  # the packaged defaults: the one source of truth


def config_dir() -> Path:
    """The override directory: HFWEEKLY_CONFIG_DIR, else `config` in the working directory."""
    return Path(os.environ.get("HFWEEKLY_CONFIG_DIR") or "config")


def config_file(name: str) -> Traversable:
    """The configuration file `name`: the override directory's when it has one, else the packaged
    default. An HFWEEKLY_CONFIG_DIR that is not a directory is a mistake, not a wish for the
    defaults: its path is returned, and reading it fails with the path in the message."""
    if name not in CONFIG_FILES:
        raise ValueError(f"{name!r} is not a configuration file")
    override = config_dir() / name
    explicit = bool(os.environ.get("HFWEEKLY_CONFIG_DIR"))
    if override.is_file() or (explicit and not config_dir().is_dir()):
        return override
    return DEFAULTS / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HFWEEKLY_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Contract variables (no prefix). Secrets are SecretStr so they never print.
    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(default="https://api.telegram.org/bot", validation_alias="TELEGRAM_API_BASE_URL")
    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = Field(default=None, validation_alias="ANTHROPIC_BASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    hf_base_url: str = Field(default="https://huggingface.co", validation_alias="HF_BASE_URL")
    hf_token: SecretStr | None = Field(default=None, validation_alias="HF_TOKEN")  # sent to Hugging Face only
    arxiv_base_url: str = Field(default="https://export.arxiv.org", validation_alias="ARXIV_BASE_URL")
    arxiv_html_base_url: str = Field(default="https://arxiv.org", validation_alias="ARXIV_HTML_BASE_URL")

    # HFWEEKLY_<NAME> settings, documented in bot/defaults/settings.toml.
    admins: Annotated[list[int], NoDecode] = Field(default_factory=list)
    channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    schedule: str = "0 9 * * mon"
    catch_up: timedelta = timedelta(days=3)
    send_rate: float = Field(default=29.0, ge=0)  # messages per second overall (replies and broadcasts); 0: none
    group_rate_per_minute: float = Field(default=20.0, ge=0)  # per group or channel; 0: no limiter
    paid_broadcast: bool = False  # the broadcast as paid broadcasts (allow_paid_broadcast; Stars per message)
    paid_rate: float = Field(default=950.0, gt=0, le=1000)  # the broadcast's messages a second when paid
    broadcast_concurrency: int = Field(default=32, ge=1, le=1000)
    http_port: int = Field(default=8080, ge=0, le=65535)
    http_host: str = "127.0.0.1"  # the image sets 0.0.0.0, for its port mapping
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_listen: str = "0.0.0.0"
    publish_lock_seconds: float = Field(default=30.0, ge=1, le=3600)
    leader_lease_seconds: float = Field(default=15.0, ge=1, le=600)
    timezone: str = "Asia/Seoul"
    top_n: int = Field(default=10, ge=1, le=50)
    model: str = "claude-sonnet-5-5"
    translate_concurrency: int = Field(default=5, ge=1, le=50)
    translate_max_tokens: int = Field(default=8192, ge=1024, le=64000)
    hf_max_attempts: int = Field(default=4, ge=1, le=10)
    claude_max_retries: int = Field(default=4, ge=0, le=10)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"
    redis_prefix: str = Field(default="hfweekly", pattern=r"^[A-Za-z0-9_.-]+$")
    week_build_limit: int = Field(default=5, ge=1, le=1000)
    week_build_window_minutes: int = Field(default=10, ge=1, le=1440)
    paper_daily_limit: int = Field(default=20, ge=0, le=10_000)  # new on-demand translations per person a day
    on_demand_daily_tokens: int = Field(default=2_000_000, ge=0)  # Claude tokens a day for /paper, all people
    brief_top: int = Field(default=3, ge=0, le=50)  # deep briefs made with each digest build (0: none)
    ask_daily_limit: int = Field(default=20, ge=0, le=10_000)  # questions about papers (/ask) per person a day
    ask_max_chars: int = Field(default=500, ge=10, le=4000)  # a longer question is refused, nothing asked
    report_daily_limit: int = Field(default=10, ge=1, le=1000)  # readers' reports of translations a day per person
    paper_figure: bool = True  # /paper also sends the paper's first figure (arXiv's HTML) with a Korean caption
    web: bool = False  # the public web pages and feeds (bot/web/) on web_host:web_port, with `hfweekly run`
    web_host: str = "127.0.0.1"  # behind a reverse proxy (README); 0.0.0.0 to listen on every interface
    web_port: int = Field(default=8081, ge=0, le=65535)
    public_url: str | None = None  # e.g. https://papers.example.kr: absolute links, canonical, og:url, feed ids
    bot_username: str | None = Field(default=None, pattern=r"^@?[A-Za-z0-9_]{5,32}$")  # the subscribe link t.me/<it>

    @field_validator("channels", mode="before")
    @classmethod
    def _channel_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("channels")
    @classmethod
    def _channel_ids(cls, value: list[str]) -> list[str]:
        for channel in value:
            if not (channel.startswith("@") or channel.removeprefix("-").isdigit()):
                raise ValueError(f"{channel!r} is neither @username nor a numeric chat id")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a cron expression such as '0 9 * * mon' ({exc})") from exc
        return value

    @field_validator("catch_up", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        """`3d`, `12h`, `90m`, `45s` as well as ISO 8601 (`P3D`) or seconds."""
        if isinstance(value, str) and (m := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dhms])\s*", value.lower())):
            unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[m[2]]
            return timedelta(**{unit: float(m[1])})
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`HFWEEKLY_ADMINS=1,2` (env) as well as `admins = [1, 2]` (TOML)."""
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Asia/Seoul)") from exc
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix:// (e.g. redis://127.0.0.1:6379/0)")
        return value

    @field_validator("hf_base_url", "telegram_api_base_url", "anthropic_base_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "anthropic_api_key",
        "telegram_bot_token",
        "redis_url",
        "anthropic_base_url",
        "public_url",
        "bot_username",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def webhook_secret(self) -> str:
        """The X-Telegram-Bot-Api-Secret-Token every replica expects: derived from the bot token, so that
        replicas agree without one more secret to configure."""
        token = self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""
        return hashlib.sha256(f"hfweekly-webhook:{token}".encode()).hexdigest()

    def secrets(self) -> list[str]:
        """Every secret value in force: what must never reach a log line or a chat."""
        values = [s.get_secret_value() for s in (self.telegram_bot_token, self.anthropic_api_key) if s is not None]
        return values + ([self.webhook_secret()] if self.telegram_bot_token else [])

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: explicit arguments, then the environment, then .env, then settings.toml.
        toml = InitSettingsSource(settings_cls, init_kwargs=_read_toml(config_file("settings.toml")))
        return init_settings, env_settings, dotenv_settings, toml


def _read_toml(file: Traversable) -> dict[str, object]:
    """settings.toml's values; none when an explicit HFWEEKLY_CONFIG_DIR is missing (the prompt's
    loader names that directory). A broken file is a ValueError: pydantic reports it."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc}") from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from exc


def load_settings() -> Settings:
    """Settings, or a ConfigError that names each bad value and where to fix it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"invalid configuration ({problems}); fix it in the environment, .env or config/settings.toml"
        ) from exc
