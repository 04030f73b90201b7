"""Logging: one format on stderr, secrets masked in every line, chatty HTTP loggers kept quiet."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable

# httpx logs every request URL at INFO, and Telegram's URLs carry the bot token.
QUIET_LOGGERS = ("httpx", "httpcore", "httpx2", "httpcore2", "anthropic", "aiohttp.access", "apscheduler")
MASK = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then masks every secret: message, arguments and traceback alike."""

    def __init__(self, fmt: str, datefmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt, datefmt)
        # The token's secret half is masked on its own too, in case it is logged apart from its id.
        parts = {s for secret in secrets if secret for s in (secret, secret.partition(":")[2]) if len(s) >= 8}
        self._secrets = sorted(parts, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


class JsonFormatter(RedactingFormatter):
    """One JSON object per line (for log collectors), secrets masked like the plain format."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, ensure_ascii=False), self._secrets)


def setup_logging(level: str, secrets: Iterable[str] = (), fmt: str = "plain") -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter_class = JsonFormatter if fmt == "json" else RedactingFormatter
    handler.setFormatter(
        formatter_class("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
