"""Telegram's answers to one message, and what each means for the ledger (bot/ledger.py): sent, in
doubt, not sent, the chat gone or moved. The broadcaster sends every part through `send_part`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.ledger import Outcome, Result
from bot.limiter import PACED, Priority, SendLimiter, seconds
from bot.models import ChatKind, View
from bot.render import plain_text
from bot.telegram_http import ConnectTimedOut, NotSent, ServerError
from bot.week import IsoWeek

log = logging.getLogger("bot.deliver")

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
NO_PREVIEW_JSON = {"is_disabled": True}
# The broadcast needs only the id of each message it sends. `Bot.send_message` parses Telegram's
# answer into a full `Message` (every entity, the chat, the sender): about 0.6 ms of CPU a message,
# as much as all the rest of a send. `do_api_request` with no return type hands back the answer as
# it came. The method is named in lower case because python-telegram-bot warns when `do_api_request`
# is used for a method it has a function for; the Bot API's method names are case-insensitive.
SEND_MESSAGE = "sendmessage"
Bot = Any  # python-telegram-bot's ExtBot with our SendLimiter (typed loosely: its generics add nothing here)


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    kind: ChatKind
    thread_id: int | None = None
    subscribed: bool = True  # False for channels that come from the `channels` setting only
    view: View = field(default_factory=View)  # how the chat's digest looks (its /settings)


PlainResend = Callable[[Recipient, str], Awaitable[None]]


def _message_id(answer: object) -> int:
    if isinstance(answer, dict) and isinstance(message_id := answer.get("message_id"), int):
        return message_id
    raise TypeError(f"sendMessage answered without a message id: {str(answer)[:200]}")


async def send_part(
    bot: Bot, limiter: SendLimiter, to: Recipient, text: str, week: IsoWeek, plain_resend: PlainResend
) -> Result:
    """Send one part (its slot taken) and say how it went, by Telegram's error policy: a 429 waits
    and sends again; a gone forum topic falls back to the chat; HTML Telegram cannot parse goes again
    as plain text (each retry takes a slot of its own). Never raises but for the run's own end."""
    plain, thread = False, to.thread_id
    while True:
        try:
            params: dict[str, object] = {"chat_id": to.chat_id, "text": text, "link_preview_options": NO_PREVIEW_JSON}
            if not plain:
                params["parse_mode"] = ParseMode.HTML.value
            if thread is not None:
                params["message_thread_id"] = thread
            if limiter.paid_broadcast:  # the slot came from the paid budget (bot/limiter.py)
                params["allow_paid_broadcast"] = True
            answer = await bot.do_api_request(SEND_MESSAGE, api_kwargs=params, rate_limit_args=PACED)
            result = Result(Outcome.SENT, message_id=_message_id(answer))
            if limiter.paid_broadcast:
                limiter.count_paid(week)
            return result
        except RetryAfter as exc:  # nothing was sent: what Telegram paused waits, then this part goes again
            await limiter.flood(seconds(exc.retry_after), to.chat_id, Priority.BROADCAST)
        except ChatMigrated as exc:
            return Result(Outcome.MIGRATED, new_chat_id=exc.new_chat_id)
        except Forbidden as exc:
            return Result(Outcome.INACTIVE, error=exc.message)
        except BadRequest as exc:
            reason = exc.message.lower()
            if "chat not found" in reason:
                return Result(Outcome.INACTIVE, error=exc.message)
            if "thread not found" in reason and thread is not None:
                log.info("Forum topic %s of chat %s is gone: sending to the chat itself", thread, to.chat_id)
                thread = None
            elif "can't parse entities" in reason and not plain:
                await plain_resend(to, exc.message)
                text, plain = plain_text(text), True
            else:
                return Result(Outcome.FAILED, error=exc.message)
        except (NotSent, ConnectTimedOut) as exc:  # no connection: nothing reached Telegram
            return Result(Outcome.FAILED, error=f"not sent: {type(exc).__name__}: {exc.message}")
        except ServerError as exc:  # Telegram said the call failed; a gateway timeout (504) hides the outcome
            outcome = Outcome.UNKNOWN if exc.status == HTTPStatus.GATEWAY_TIMEOUT else Outcome.FAILED
            return Result(outcome, error=f"{type(exc).__name__}: {exc.message}")
        except NetworkError as exc:  # no answer (a timeout, a broken connection): it may have arrived
            return Result(Outcome.UNKNOWN, error=f"{type(exc).__name__}: {exc.message}")
        except TelegramError as exc:
            return Result(Outcome.FAILED, error=f"{type(exc).__name__}: {exc.message}")
        except Exception as exc:  # e.g. an answer the client could not read, after the request went out
            log.exception("Sending %s to chat %s failed unexpectedly", week, to.chat_id)
            return Result(Outcome.UNKNOWN, error=f"{type(exc).__name__}: {exc}"[:300])
        await limiter.acquire(to.chat_id, Priority.BROADCAST)  # the next try takes a slot of its own
