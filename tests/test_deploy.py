"""The deployment files, checked by parsing them (no Docker engine runs here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_redis_keeps_its_data_and_reports_health() -> None:
    redis = compose()["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    assert "--appendonly" in redis["command"] and "yes" in redis["command"]
    [volume] = redis["volumes"]
    name, target = volume.split(":")
    assert target == "/data" and name in compose()["volumes"]  # a named volume, not the container's disk
    assert "ping" in " ".join(redis["healthcheck"]["test"])


def test_bot_waits_for_redis_restarts_and_checks_healthz() -> None:
    bot = compose()["services"]["bot"]
    assert bot["env_file"] == ".env"
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert bot["restart"] == "unless-stopped"
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert bot["environment"]["REDIS_URL"].startswith("redis://redis:6379")


def test_dockerfile_is_slim_non_root_and_secret_free() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]-slim", text, re.MULTILINE)
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "PTB_TIMEDELTA=true" in text
    assert "HFWEEKLY_HTTP_HOST=0.0.0.0" in text  # inside the container, for the port mapping; outside: loopback
    assert Settings.model_fields["http_host"].default == "127.0.0.1"
    assert not re.search(r"(TOKEN|API_KEY)\s*=", text)
    assert "/healthz" in text


def test_env_example_lists_every_variable() -> None:
    text = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    assert {"TELEGRAM_BOT_TOKEN", "ANTHROPIC_API_KEY", "REDIS_URL", "HFWEEKLY_ADMINS", "HFWEEKLY_CHANNELS"} <= names
    assert {"TELEGRAM_API_BASE_URL", "ANTHROPIC_BASE_URL", "HF_BASE_URL"} <= names
    for name in names - {"TELEGRAM_BOT_TOKEN", "ANTHROPIC_API_KEY", "REDIS_URL"}:
        if name.startswith("HFWEEKLY_"):
            assert name.removeprefix("HFWEEKLY_").lower() in Settings.model_fields, name
    for line in text.splitlines():  # no value filled in for a secret
        assert not re.match(r"^(TELEGRAM_BOT_TOKEN|ANTHROPIC_API_KEY)=\S", line)


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        env = field.validation_alias if isinstance(field.validation_alias, str) else f"HFWEEKLY_{name.upper()}"
        assert f"`{env}`" in readme, env
    assert "scripts/test" in readme and "hfweekly run" in readme and "docker compose up -d" in readme
