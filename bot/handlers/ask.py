"""Questions about a paper: `/ask <id or link> <질문>`, or a text reply to a message of the bot's that
shows one paper (a /paper answer, an answer to a question: bot/ask.py remembers which paper each shows).
In private chats a reply to any other message of the bot's is read as ordinary text (a link, a week); in
groups only replies to the bot's paper messages are answered (with privacy mode on, the bot sees no
other replies anyway). The rules are bot/ask.py's; this module parses, asks it, and replies: a
"답을 찾는 중…" message that becomes the answer (the /paper pattern)."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot import texts_ask as ta
from bot.ask import Answered, AskRefused, Questions, Unanswered
from bot.errors import StoreError
from bot.handlers.common import Context, command_text, deps, echoed, edit, reply, retry_if_interrupted
from bot.handlers.lookup import found_or_said, tell_failure
from bot.handlers.start import plain_text
from bot.models import Paper
from bot.paperid import parse_paper_id
from bot.render import esc
from bot.tghtml import shorten

log = logging.getLogger(__name__)

QUESTION_ECHO = 200  # characters of the question the answer quotes
TITLE_ECHO = 120
ANSWER_HTML = 3000  # characters of the escaped answer: the message stays within Telegram's 4,096


def _escaped_within(text: str, limit: int) -> str:
    """`text` escaped, shortened (…) until the escaped form fits `limit` characters."""
    while len(escaped := esc(text)) > limit:
        text = text[: len(text) * 3 // 4].rstrip() + "…"
    return escaped


def section_label(title: str) -> str:
    """A cited section as the answer shows it: its number kept, a usual name in Korean (`4.2 Experiments`
    → `4.2 실험`), any other title as the paper writes it."""
    number, _, name = title.strip().partition(" ")
    if not number.rstrip(".").replace(".", "").isdigit():
        number, name = "", title.strip()
    korean = ta.SECTION_NAMES_KO.get(name.strip().lower())
    if korean is None:
        return title.strip()
    return f"{number} {korean}" if number else korean


def answer_html(paper: Paper, question: str, answered: Answered) -> str:
    """The answer as the person reads it: their question (escaped), the answer and the section it came
    from, a note when only the abstract was read, the paper, and how many questions are left today."""
    shown = shorten(question, QUESTION_ECHO)
    answer = answered.answer
    lines = [ta.ASK_QUESTION.format(question=esc(shown)), ""]
    body = _escaped_within(answer.text, ANSWER_HTML)
    if answer.section:
        body += " " + ta.ASK_SECTION.format(section=esc(section_label(answer.section)))
    lines.append(body)
    if answered.abstract_only:
        lines += ["", ta.ASK_ABSTRACT_ONLY]
    title = shorten(paper.title, TITLE_ECHO)
    lines += ["", ta.ASK_PAPER.format(paper=esc(paper.id), title=esc(title))]
    lines.append(ta.ASK_REMAINING.format(remaining=answered.remaining))
    return "\n".join(lines)


def refusal_html(questions: Questions, refused: AskRefused, limit: int, tz: str) -> str:
    hours = max(1, round(questions.until_reset().total_seconds() / 3600))
    if refused is AskRefused.USER_LIMIT:
        return ta.ASK_USER_LIMIT.format(limit=limit, tz=esc(tz), hours=hours)
    return ta.ASK_BUDGET.format(tz=esc(tz), hours=hours)


async def answer_question(update: Update, context: Context, paper_id: str, question: str) -> None:
    """Answer `question` about the paper in the chat: a placeholder, then the answer (or why not)."""
    d = deps(context)
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    if d.questions is None:  # no Claude configured
        await reply(update, context, ta.ASK_FAILED)
        return
    if not question:
        await reply(update, context, ta.ASK_USAGE)
        return
    if d.questions.refusal(question) is not None:
        await reply(update, context, ta.ASK_TOO_LONG.format(length=len(question), limit=d.settings.ask_max_chars))
        return
    found = await found_or_said(update, context, paper_id)
    if found is None:
        return
    paper = found.paper
    placeholder = await reply(update, context, ta.ASK_THINKING.format(paper=esc(paper.id)))
    try:
        async with retry_if_interrupted(placeholder):  # the bot stopping cancels the question
            outcome = await d.questions.ask(paper, user.id if user else chat.id, question)
    except Exception as exc:  # the placeholder says so rather than "답을 찾는 중…"; admins are told
        await tell_failure(d, placeholder, exc, f"/ask about {paper.id}")
        return
    if isinstance(outcome, AskRefused):
        await edit(placeholder, refusal_html(d.questions, outcome, d.settings.ask_daily_limit, d.settings.timezone))
        return
    if isinstance(outcome, Unanswered):
        await edit(placeholder, ta.ASK_UNCHECKED if outcome.reason == "unchecked" else ta.ASK_FAILED)
        return
    await edit(placeholder, answer_html(paper, question, outcome))
    await _remember(d.questions, placeholder, paper.id)


async def _remember(questions: Questions, message: Message, paper_id: str) -> None:
    """A reply to the answer is a follow-up. Best effort: the answer has reached the person."""
    try:
        await questions.remember(message.chat_id, [message.message_id], paper_id)
    except StoreError as exc:
        log.warning("Could not remember the paper of message %s in %s: %s", message.message_id, message.chat_id, exc)


async def ask_command(update: Update, context: Context) -> None:
    words = command_text(update).split(maxsplit=1)
    if not words:
        await reply(update, context, ta.ASK_USAGE)
        return
    paper_id = parse_paper_id(words[0])
    if paper_id is None:
        await reply(update, context, ta.ASK_BAD_ID.format(text=echoed(words[0])))
        return
    question = words[1].strip() if len(words) > 1 else ""
    if not question:
        await reply(update, context, ta.ASK_NO_QUESTION.format(paper=esc(paper_id)))
        return
    await answer_question(update, context, paper_id, question)


class _ReplyToBot(filters.MessageFilter):
    """A reply to a message a bot wrote (which bot, and which paper it shows, the handler asks)."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.is_bot


async def replied(update: Update, context: Context) -> None:
    """A reply to a message of the bot's: a question when that message shows a paper; otherwise, in a
    private chat, ordinary text (a link, a week); in a group, nothing."""
    d, message, chat = deps(context), update.effective_message, update.effective_chat
    assert message is not None and message.reply_to_message is not None and chat is not None
    target = message.reply_to_message
    paper_id = None
    if d.questions is not None and target.from_user is not None and target.from_user.id == context.bot.id:
        paper_id = await d.questions.paper_of(chat.id, target.message_id)
    if paper_id is None:
        if chat.type == ChatType.PRIVATE:
            await plain_text(update, context)
        return
    await answer_question(update, context, paper_id, (message.text or "").strip())


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CommandHandler("ask", ask_command),
    MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND & _ReplyToBot(), replied),
]
