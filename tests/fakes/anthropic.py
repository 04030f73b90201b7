"""A fake Claude Messages API (`POST /v1/messages`).

By default it answers each paper with a Korean translation that passes validation: Korean sentences
that carry every number of the abstract. A script of behaviours can be queued (`overloaded`,
`english`, `truncated`, `drop_number`, `long_summary`, `long_title`, `link`, `refusal`, `html`, `empty`,
`status:<code>`; unfaithful: `invented_name`, `changed_number`, `chinese`, `drift`, `no_glossary`), or one
behaviour made permanent. Asked for a figure's caption (a schema with `caption_ko`), it answers a Korean
caption keeping the caption's names and numbers (the unfaithful behaviours apply to it too). A faithful answer keeps each sentence's names and numbers and follows the
glossary of the system prompt; given an admin's instructions (추가 지시), its title says it was corrected
(교정된 한국어 제목(첫째): …, 둘째 with two instructions …). It rejects what the real API rejects for our use: no API key, `temperature`/`top_p`,
an output_config that is not a JSON schema. A request with a deep brief's schema gets a brief
(tests/fakes/anthropic_brief.py).

Questions about a paper (a schema with an `answer` property) are answered by tests/fakes/anthropic_ask.py,
and their usage is the prompt cache's as the real API reports it (tests/fakes/prompt_cache.py);
translations keep their fixed usage. `handler_seconds` is the time each request spent in this fake.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from tests.fakes import anthropic_ask
from tests.fakes.anthropic_brief import brief_answer, is_brief
from tests.fakes.prompt_cache import PromptCache
from tests.fakes.server import FakeServer

_NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d[\d,]*(?:\.\d+)?(?:\s*\\?%|\s*percentage[\s-]*points?\b|\s*percent\b|pp\b)?")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?:[A-Za-z0-9._+-]*[A-Za-z0-9+])?")
# How our system prompt lists the glossary: "- reinforcement learning → 강화학습 (처음 나올 때: 강화학습(…))"
_GLOSSARY_LINE = re.compile(r"^- (.+?) → (.+?) \(처음 나올 때: (.+)\)$", re.MULTILINE)

ERROR_TYPES = {
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
    401: "authentication_error",
}


FILLER = "내용을 빠짐없이 충실하게 한국어로 옮긴 번역 문장이다"
ORDINALS = ("첫째", "둘째", "셋째", "넷째", "다섯째")


def paper_from_prompt(text: str) -> tuple[str, str]:
    """The (title, abstract) our translator puts in its user message."""
    head, _, rest = text.partition("\n\n초록:\n")
    abstract, _, _ = rest.partition("\n\n추가 지시")
    return head.removeprefix("제목: "), abstract


def _percent(number: str) -> str:
    """A number as a Korean translation writes it: 4.5\\% → 4.5%, 5 percentage points (5pp) → 5%p."""
    points = re.sub(r"\s*percentage[\s-]*points?|pp$", "%p", number)
    return re.sub(r"\s*(\\%|percent)", "%", points)


def glossary_of(system: str) -> list[tuple[str, str, str]]:
    """(English, Korean, first use) of each glossary term the system prompt lists."""
    return [(m[1], m[2], m[3]) for m in _GLOSSARY_LINE.finditer(system)]


def _name_like(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return bool(letters) and (
        any(c.isdigit() for c in token) or any(c.isupper() for c in token[1:]) or (len(letters) > 1 and token.isupper())
    )


def korean_translation(title: str, abstract: str, glossary: Sequence[tuple[str, str, str]] = ()) -> dict[str, str]:
    """A faithful translation as far as a fake can make one: each sentence of the abstract becomes a
    Korean sentence that keeps that sentence's names and numbers, and uses the glossary's rendering of
    every term it meets (the first time as 한국어(English))."""
    sentences = [s for s in _SENTENCE.split(abstract) if s.strip()]
    used: set[str] = set()
    korean = []
    for sentence in sentences:
        names = [t for t in _TOKEN.findall(sentence) if _name_like(t)]
        numbers = " ".join(_percent(m.strip()) for m in _NUMBER.findall(sentence))  # \% → %
        terms = []
        for english, rendering, first in glossary:
            words = r"[\s-]*".join(re.escape(w) for w in re.split(r"[\s-]+", english))
            if re.search(rf"(?<![A-Za-z0-9]){words}(?:e?s)?(?![A-Za-z0-9])", sentence, re.IGNORECASE):
                terms.append(rendering if english in used else first)
                used.add(english)
        line = "원문의 이 문장은 "
        line += f"{', '.join(dict.fromkeys(names))}을(를) 다루며 " if names else ""
        line += f"{' '.join(terms)} 등의 용어로 " if terms else ""
        line += FILLER
        while len(line) < 0.4 * len(sentence):  # Korean runs to about half the English's length
            line += ", " + FILLER
        korean.append(f"{line} (수치: {numbers})." if numbers else f"{line}.")
    # The summary names what the paper proposes (the first distinctive name of its title or abstract:
    # mixed case or a digit, not an acronym like LLMs) and its first result in per cent, as a real
    # summary would.
    candidates = _TOKEN.findall(title) + _TOKEN.findall(abstract)
    named = next((t for t in candidates if _name_like(t) and len(t) > 3 and not t.rstrip("s").isupper()), None)
    figures = [_percent(m.strip()) for m in _NUMBER.findall(abstract)]
    figure = next((f for f in figures if f.endswith("%")), None)
    what = f"{named}을(를)" if named else "새로운 방법을"
    result = f"기존 방법보다 {figure} 만큼 우수하다." if figure else "기존 방법보다 우수하다."
    return {
        "title_ko": f"한국어 제목: {title}",
        "summary_ko": f"이 논문은 {what} 제안하고 여러 실험으로 그 효과를 보인다. 결과는 {result}",
        "abstract_ko": " ".join(korean),
    }


def caption_answer(user_text: str, behaviour: str) -> tuple[str, str]:
    """(JSON text, stop reason) answering a figure caption's translation (`그림 캡션:\n<caption>`): each
    sentence a Korean one keeping its names and numbers; the unfaithful behaviours apply."""
    caption = user_text.partition("그림 캡션:\n")[2].strip()
    korean = korean_translation("", caption)["abstract_ko"]
    if behaviour == "invented_name":
        korean = f"GPT-7과 비교한 그림이다. {korean}"
    elif behaviour == "changed_number":
        korean = f"정확도가 97.3% 오른다. {korean}"
    elif behaviour == "english":
        korean = caption
    text = json.dumps({"caption_ko": korean}, ensure_ascii=False)
    if behaviour == "truncated":
        return text[: len(text) // 2], "max_tokens"
    return text, "refusal" if behaviour == "refusal" else "end_turn"


class FakeClaude(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.script: deque[str] = deque()  # behaviours for the next calls, in order
        self.default = "good"  # behaviour once the script is empty
        self.delay = 0.0  # seconds before each answer
        self.gate = asyncio.Event()  # answers wait while it is clear (tests hold Claude "thinking")
        self.gate.set()
        self.requests: list[dict[str, Any]] = []  # request bodies, in order
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._ids = itertools.count(1)
        self.cache = PromptCache()  # what questions' usage reports (translations: fixed figures)
        self.handler_seconds: list[float] = []  # time each request spent in this fake (a benchmark subtracts it)
        self.app.middlewares.append(self._timed)
        self.app.router.add_post("/v1/messages", self._messages)
        self.valid_keys: set[str] | None = None  # when set, any other key is refused (401)

    @web.middleware
    async def _timed(self, request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            self.handler_seconds.append(time.perf_counter() - started)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def api_key(self, call: int) -> str:
        """The key call number `call` authenticated with (the SDK sends x-api-key or a Bearer token)."""
        headers = self.headers[call]
        return headers.get("x-api-key") or headers.get("Authorization", "").removeprefix("Bearer ")

    def _error(self, status: int, message: str) -> web.Response:
        body = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
        # retry-after-ms keeps the SDK's retries fast in tests; the SDK honours it like retry-after.
        return web.json_response(body, status=status, headers={"retry-after-ms": "20"})

    async def _messages(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if not self.api_key(len(self.headers) - 1):
            return self._error(401, "an API key is required (x-api-key or Authorization: Bearer)")
        if self.valid_keys is not None and self.api_key(len(self.headers) - 1) not in self.valid_keys:
            return self._error(401, "invalid x-api-key")
        for param in ("temperature", "top_p", "top_k"):
            if param in body:
                return self._error(400, f"{param} is not supported by this model")
        if "output_config" not in body:  # a plain request (hfweekly check): a plain answer
            return web.json_response(self._message(body, "pong", "end_turn"))
        fmt = body["output_config"].get("format", {})
        if fmt.get("type") != "json_schema" or "schema" not in fmt:
            return self._error(400, "output_config.format must be a JSON schema")

        behaviour = self.script.popleft() if self.script else self.default
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if behaviour == "overloaded":
            return self._error(529, "Overloaded")
        if behaviour == "html":  # a proxy in between answering 200 with its own page
            return web.Response(
                text="<html><body>Service temporarily unavailable</body></html>", content_type="text/html"
            )
        if behaviour == "empty":  # 200 with a JSON body that is not a Messages response
            return web.json_response({})
        if behaviour.startswith("status:"):
            return self._error(int(behaviour.split(":")[1]), "scripted failure")
        if anthropic_ask.is_question(fmt["schema"]):
            text = json.dumps(anthropic_ask.answer(body, behaviour), ensure_ascii=False)
            return web.json_response(self._message(body, text, "end_turn", self.cache.usage(body)))

        first_user = body["messages"][0]["content"]
        user_text = first_user if isinstance(first_user, str) else first_user[0]["text"]
        if is_brief(fmt["schema"]):  # a deep brief (tests/fakes/anthropic_brief.py)
            brief = json.dumps(brief_answer(user_text, behaviour), ensure_ascii=False)
            return web.json_response(self._message(body, brief, "end_turn"))
        if "caption_ko" in fmt["schema"].get("properties", {}):  # a figure's caption (bot/figure.py)
            return web.json_response(self._message(body, *caption_answer(user_text, behaviour)))
        title, abstract = paper_from_prompt(user_text)
        system = "\n".join(block.get("text", "") for block in body.get("system") or [] if isinstance(block, dict))
        glossary = [] if behaviour == "no_glossary" else glossary_of(system)
        answer = korean_translation(title, abstract, glossary)
        if "\n\n추가 지시" in user_text:  # an admin's correction: the title says how many instructions it had
            count = user_text.count("\n- ")  # in words: a digit the paper lacks would be an invented number
            answer["title_ko"] = f"교정된 한국어 제목({ORDINALS[min(count, len(ORDINALS)) - 1]}): {title}"
        stop_reason = "end_turn"
        if behaviour == "english":
            answer = {"title_ko": title, "summary_ko": abstract[:200], "abstract_ko": abstract}
        elif behaviour == "drop_number":
            answer["abstract_ko"] = _NUMBER.sub("", answer["abstract_ko"])
        elif behaviour == "long_summary":
            answer["summary_ko"] = " ".join(["이 논문은 새로운 방법을 제안한다."] * 6)
        elif behaviour == "long_title":  # within the sentence rules, but far longer than any title
            answer["title_ko"] = "아주 긴 제목 " * 400
            answer["summary_ko"] = "이 논문은 " + "매우 " * 800 + "새로운 방법을 제안한다. 결과는 우수하다."
        elif behaviour == "link":  # a link the paper never had
            answer["summary_ko"] = (
                "이 논문은 새로운 방법을 제안한다. 자세한 내용은 https://evil.example/login 에서 확인하라."
            )
        elif behaviour == "refusal":
            stop_reason = "refusal"
        elif behaviour == "invented_name":
            answer["summary_ko"] = "이 논문은 GPT-7보다 나은 방법을 제안한다. 결과는 기존 방법보다 우수하다."
        elif behaviour == "changed_number":
            answer["summary_ko"] = "이 논문은 새로운 방법을 제안한다. 정확도가 97.3% 오른다."
        elif behaviour == "chinese":
            answer["abstract_ko"] = answer["abstract_ko"].replace("충실하게", "충실하게 模型을", 1)
        elif behaviour == "drift":
            english = _SENTENCE.split(abstract)
            korean = answer["abstract_ko"].split(". ")
            answer["abstract_ko"] = (
                ". ".join(korean[: max(1, len(korean) // 2)]) + ". " + " ".join(english[len(english) // 2 :])
            )
        text = json.dumps(answer, ensure_ascii=False)
        if behaviour == "truncated":
            text, stop_reason = text[: len(text) // 2], "max_tokens"
        return web.json_response(self._message(body, text, stop_reason))

    def _message(
        self, body: dict[str, Any], text: str, stop_reason: str, usage: dict[str, int] | None = None
    ) -> dict[str, Any]:
        first = body["messages"][0]["content"]
        fixed = {"input_tokens": 900 + len(str(first)) // 4, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 700}  # fmt: skip
        return {
            "id": f"msg_fake_{next(self._ids)}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {**(usage or fixed), "output_tokens": len(text) // 2},
        }
