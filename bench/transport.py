"""Which transport under python-telegram-bot costs the bot less: our aiohttp `BaseRequest`
(bot/telegram_http.py) or PTB's own `HTTPXRequest`.

    python -m bench.transport [--messages 3000] [--concurrency 32]

A client process (this module with --client) sends the same digest part with python-telegram-bot's
Bot to `messages` chats of the fake Telegram, `concurrency` at a time, through one transport or the
other, and reports its own CPU time per message; the fake runs in this process, on the other core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from tests.fakes.telegram import TOKEN, FakeTelegram

FIRST = 300_000
TEXT = "<b>🤗 Hugging Face 주간 인기 논문 Top 10</b>\n" + "한국어 요약 문장입니다. " * 150


async def client(url: str, transport: str, messages: int, concurrency: int) -> None:
    from telegram import Bot
    from telegram.request import BaseRequest, HTTPXRequest

    from bot.telegram_http import AiohttpRequest

    request: BaseRequest = (
        AiohttpRequest(connections=8) if transport == "aiohttp" else HTTPXRequest(connection_pool_size=8)
    )
    async with Bot(TOKEN, base_url=url, request=request) as bot:
        queue = list(range(FIRST, FIRST + messages))

        async def worker() -> None:
            while queue:
                await bot.send_message(queue.pop(), TEXT, parse_mode="HTML")

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"cpu_ms": cpu / messages * 1000, "rate": messages / wall}))


async def run(messages: int, concurrency: int) -> None:
    tg = FakeTelegram()
    tg.validate_html = False
    await tg.start()
    for chat in range(FIRST, FIRST + messages):
        tg.add_chat(chat, "private")
    rows = []
    try:
        for transport in ("aiohttp", "httpx", "aiohttp", "httpx"):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.transport", "--client", transport, "--url", f"{tg.url}/bot",
                "--messages", str(messages), "--concurrency", str(concurrency), stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, _ = await proc.communicate()
            rows.append((transport, json.loads(out.decode().splitlines()[-1])))
    finally:
        await tg.stop()
    print(f"{messages} sendMessage calls with python-telegram-bot, {concurrency} at a time, per transport")
    print()
    print("| transport | client CPU per message | messages per second |")
    print("|---|---|---|")
    for transport, result in rows:
        print(f"| {transport} | {result['cpu_ms']:.2f} ms | {result['rate']:.0f}/s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--client", choices=("aiohttp", "httpx"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client(args.url, args.client, args.messages, args.concurrency))
    else:
        asyncio.run(run(args.messages, args.concurrency))


if __name__ == "__main__":
    main()
