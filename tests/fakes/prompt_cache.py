"""The prompt cache as the real Messages API reports it, for the fake Claude.

The blocks of a request (system, then each message's content) up to and including the last one marked
`cache_control` form the cached prefix. The first request with a given prefix (per model) writes it:
`cache_creation_input_tokens`; a later one within the TTL (5 minutes, refreshed by each hit) reads it:
`cache_read_input_tokens`; the rest of the prompt is `input_tokens`. A prefix under MIN_TOKENS is not
cached at all (the real API's minimum for Sonnet-class models; it is silently not cached). Tokens are
characters / 4, rounded up.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

TTL = 300.0  # seconds
MIN_TOKENS = 1024


def tokens(chars: int) -> int:
    return -(-chars // 4)


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every prompt block in order: system (a string is one block), then each message's content."""
    system = body.get("system") or []
    out: list[dict[str, Any]] = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            out.append({"type": "text", "text": content})
        else:
            out.extend(content)
    return out


def _chars(block: dict[str, Any]) -> int:
    return len(block.get("text", "")) if "text" in block else len(json.dumps(block))


class PromptCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # seconds; tests may drive it
        self._expires: dict[str, float] = {}  # prefix key -> when it leaves the cache
        self.prefixes: list[str | None] = []  # each request's prefix key (None: nothing cached), in order

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        """The request's input usage: input_tokens, cache_creation_input_tokens, cache_read_input_tokens."""
        blocks = _blocks(body)
        total = tokens(sum(_chars(b) for b in blocks))
        marked = [i for i, b in enumerate(blocks) if isinstance(b, dict) and b.get("cache_control")]
        prefix = tokens(sum(_chars(b) for b in blocks[: marked[-1] + 1])) if marked else 0
        if not marked or prefix < MIN_TOKENS:
            self.prefixes.append(None)
            return {"input_tokens": total, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        raw = json.dumps([body.get("model"), blocks[: marked[-1] + 1]], sort_keys=True, ensure_ascii=False)
        key = hashlib.sha256(raw.encode()).hexdigest()[:16]
        self.prefixes.append(key)
        now = self.clock()
        hit = self._expires.get(key, 0.0) > now
        self._expires[key] = now + TTL
        return {
            "input_tokens": total - prefix,
            "cache_creation_input_tokens": 0 if hit else prefix,
            "cache_read_input_tokens": prefix if hit else 0,
        }
