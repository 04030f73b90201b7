"""The leanest sender this benchmark can think of, to measure the fake Telegram alone (bench/week_query.py).

    python -m bench.lean_client PORT TOKEN FIRST_CHAT COUNT < message.json

Reads one sendMessage body without its chat_id (JSON) from stdin, encodes COUNT requests to chats
FIRST_CHAT… before anything is timed, opens 8 keep-alive connections (as the bot's pool), prints
"ready", waits for a line on stdin, then sends them all at once and exits when every answer is in.

This is a hand-written HTTP/1.1 client on purpose, and only for measuring: it does no TLS, no
chunked answers, no timeouts or reconnects, which is what makes it cheaper per request than any
general client (aiohttp costs about 0.35 ms of CPU per request here), so the fake's own cost shows.
"""

from __future__ import annotations

import asyncio
import json
import sys

CONNECTIONS = 8


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.answered: asyncio.Future[int] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"content-length:") + len(b"content-length:")
        stop = head.find(b"\r\n", start)
        length = int(head[start : stop if stop > 0 else None])
        if len(self.buffer) >= end + 4 + length and self.answered is not None:
            status = int(self.buffer[9:12])
            del self.buffer[: end + 4 + length]
            self.answered.set_result(status)


async def main(port: int, token: str, first: int, count: int) -> None:
    loop = asyncio.get_running_loop()
    template = json.loads(sys.stdin.readline())
    requests = []
    for chat in range(first, first + count):
        body = json.dumps({"chat_id": chat, **template}, ensure_ascii=False).encode()
        head = f"POST /bot{token}/sendMessage HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        requests.append(head.encode() + body)
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        _, connection = await loop.create_connection(_Connection, "127.0.0.1", port)
        pool.put_nowait(connection)

    async def send(request: bytes) -> int:
        connection = await pool.get()
        try:
            connection.answered = loop.create_future()
            assert connection.transport is not None
            connection.transport.write(request)
            return await connection.answered
        finally:
            pool.put_nowait(connection)

    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    statuses = await asyncio.gather(*(send(request) for request in requests))
    if any(status != 200 for status in statuses):
        sys.exit(f"{sum(status != 200 for status in statuses)} requests were refused")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
