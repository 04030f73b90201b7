"""Admins' tools of trust: /retranslate <id> [instruction] (a correction that reaches every message
already sent), /reports (readers' open reports) and /glossary (the terms every translation follows).
To anyone else they are unknown commands."""

from __future__ import annotations

import logging
from collections import Counter

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from bot import texts
from bot import texts_trust as tt
from bot.errors import SourceError
from bot.glossary import Term, entry_problem, parse_edit
from bot.handlers.admin import admins_only
from bot.handlers.common import Context, Deps, command_text, deps, echoed, edit, reply
from bot.models import ReaderReport
from bot.ondemand import Found
from bot.paperid import parse_paper_id
from bot.render import esc
from bot.tghtml import paper_deep_link
from bot.week import IsoWeek

log = logging.getLogger(__name__)

MAX_LISTED = 15  # papers /reports lists in one message
LIST_LIMIT = 3500  # characters of the list's HTML (Telegram's limit is 4096 of text, with the footer)


async def _tell(context: Context, reports: list[ReaderReport], text: str) -> int:
    """Tell each reporter (in their private chat); how many were told."""
    told = 0
    for user in sorted({r.user_id for r in reports}):
        try:
            await context.bot.send_message(user, text)
            told += 1
        except TelegramError as exc:  # blocked the bot since: nothing to do
            log.info("Could not tell reporter %s: %s", user, exc)
    return told


async def _close(d: Deps, context: Context, paper_id: str, text: str) -> tuple[int, int]:
    """Close the paper's open reports and tell their reporters `text`: (reports closed, people told)."""
    closed = await d.reports.close(paper_id)
    return len(closed), await _tell(context, closed, text)


async def retranslate(update: Update, context: Context) -> None:
    d, text = deps(context), command_text(update)
    if not text:
        await reply(update, context, tt.RETRANSLATE_USAGE)
        return
    first, _, instruction = text.partition(" ")
    paper_id, instruction = parse_paper_id(first.removeprefix("p_")), " ".join(instruction.split())
    if paper_id is None:
        await reply(update, context, tt.RETRANSLATE_BAD_ID.format(text=echoed(first)))
        return
    if len(instruction) > tt.INSTRUCTION_MAX:
        await reply(update, context, tt.RETRANSLATE_TOO_LONG.format(limit=tt.INSTRUCTION_MAX))
        return
    try:
        found = await d.ondemand.find(paper_id) if d.ondemand is not None else None
    except SourceError as exc:
        log.warning("/retranslate %s: %s", paper_id, exc)
        await reply(update, context, texts.PAPER_SOURCE_DOWN.format(paper=esc(paper_id)))
        return
    if not isinstance(found, Found) or d.translator is None:
        await reply(update, context, tt.RETRANSLATE_UNKNOWN.format(paper=esc(paper_id)))
        return
    kept = await d.translator.instructions(paper_id)
    if instruction.lower() in tt.RESET_WORDS:
        instructions: tuple[str, ...] = ()
    else:
        instructions = (*kept, instruction)[-tt.INSTRUCTIONS_MAX :] if instruction else kept
    placeholder = await reply(update, context, tt.RETRANSLATE_WORKING.format(paper=esc(paper_id)))
    week = found.week or IsoWeek.current(d.clock(), d.settings.tz)
    outcome = await d.translator.correct(found.paper, week, instructions)
    if outcome.translation is None:
        label = tt.GATE_REASONS.get(outcome.kind, "")
        reason = f"{label} — {outcome.reason}" if label else outcome.reason
        await edit(placeholder, tt.RETRANSLATE_FAILED.format(paper=esc(paper_id), reason=esc(reason[:500])))
        return
    if found.week is not None:
        d.digests.forget(found.week)
    refs = await d.editor.refs_showing(paper_id)
    d.editor.wake()
    title = outcome.translation.title_ko[:200]
    closed, _ = await _close(d, context, paper_id, tt.REPORT_FIXED.format(paper=paper_id, title=esc(title)))
    shown = "\n".join(f"• {esc(i)}" for i in instructions) or tt.NO_INSTRUCTIONS
    await edit(
        placeholder,
        tt.RETRANSLATE_DONE.format(
            paper=esc(paper_id), title=esc(title), instructions=shown, refs=refs, reports=closed
        ),
    )


async def reports_command(update: Update, context: Context) -> None:
    d, text = deps(context), command_text(update)
    verb, _, rest = text.partition(" ")
    if verb == "done":
        paper_id = parse_paper_id(rest.strip())
        if paper_id is None:
            await reply(update, context, tt.REPORTS_USAGE)
            return
        closed, told = await _close(d, context, paper_id, tt.REPORT_CLOSED.format(paper=paper_id))
        answer = tt.REPORTS_DONE if closed else tt.REPORTS_DONE_NONE
        await reply(update, context, answer.format(paper=esc(paper_id), count=closed, told=told))
        return
    if text:
        await reply(update, context, tt.REPORTS_USAGE)
        return
    await _list_reports(update, context, d)


async def _list_reports(update: Update, context: Context, d: Deps) -> None:
    reports = await d.reports.open()  # newest first
    if not reports:
        await reply(update, context, tt.REPORTS_NONE)
        return
    by_paper: dict[str, list[ReaderReport]] = {}
    for report in reports:
        by_paper.setdefault(report.paper_id, []).append(report)
    lines = [tt.REPORTS_HEAD.format(count=len(reports), papers=len(by_paper))]
    buttons = []
    for i, (paper_id, of_paper) in enumerate(list(by_paper.items())[:MAX_LISTED], start=1):
        paper_start = len(lines)
        known = await d.digests.known_paper(paper_id)
        paper = known[0] if known else None
        translation = (await d.translator.cached([paper])).get(paper_id) if paper and d.translator else None
        title = translation.title_ko if translation else (paper.title if paper else "")
        reasons = Counter(tt.REASONS[r.reason] for r in of_paper)
        when = of_paper[0].at.astimezone(d.settings.tz).strftime("%m-%d %H:%M")
        lines.append(tt.REPORTS_PAPER.format(
            i=i, paper=esc(paper_id), count=len(of_paper), when=when, title=esc(title[:150]),
            reasons=" · ".join(f"{name} {n}" for name, n in reasons.most_common()),
        ))  # fmt: skip
        lines += [
            tt.REPORTS_COMMENT.format(reason=tt.REASONS[r.reason], comment=esc(r.comment[:200]))
            for r in of_paper[:3]
            if r.comment
        ]
        buttons.append(InlineKeyboardButton(f"{i}. {paper_id}", url=paper_deep_link(context.bot.username, paper_id)))
        if len("\n".join(lines)) > LIST_LIMIT:  # whole papers only: HTML cut in the middle is refused
            del lines[paper_start:], buttons[-1:]
            break
    lines.append(tt.REPORTS_FOOT)
    markup = InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])
    await reply(update, context, "\n".join(lines), markup)


async def glossary_command(update: Update, context: Context) -> None:
    d, text = deps(context), command_text(update)
    if d.translator is None:
        await reply(update, context, texts.UNKNOWN)
        return
    verb, _, rest = text.partition(" ")
    if verb == "add":
        parsed = parse_edit(rest)
        problem = "syntax" if parsed is None else entry_problem(*parsed)
        if parsed is None or problem is not None:
            await reply(update, context, tt.GLOSSARY_BAD.format(problem=tt.GLOSSARY_PROBLEMS[problem or "syntax"]))
            return
        english, korean = parsed
        await d.translator.add_term(english, korean)
        term = Term.parse(english, korean)
        await reply(update, context, tt.GLOSSARY_ADDED.format(
            english=esc(term.english), korean=esc(term.korean), first=esc(term.first_use)
        ))  # fmt: skip
        return
    if verb == "remove" and rest.strip():
        english = " ".join(rest.split())
        if not await d.translator.remove_term(english):
            await reply(update, context, tt.GLOSSARY_UNKNOWN.format(english=esc(english)))
            return
        await reply(update, context, tt.GLOSSARY_REMOVED.format(english=esc(english)))
        return
    if text:
        await reply(update, context, tt.GLOSSARY_BAD.format(problem=tt.GLOSSARY_PROBLEMS["syntax"]) + tt.GLOSSARY_USAGE)
        return
    glossary = await d.translator.glossary()
    lines = [tt.GLOSSARY_HEAD.format(count=len(glossary.terms))]
    lines += [
        tt.GLOSSARY_LINE.format(
            mark="✎ " if t.english.lower() in glossary.edited else "", english=esc(t.english), first=esc(t.first_use)
        )
        for t in glossary.terms
    ]
    await reply(update, context, "\n".join(lines)[:3500] + tt.GLOSSARY_USAGE)


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CommandHandler(name, admins_only(callback))
    for name, callback in (("retranslate", retranslate), ("reports", reports_command), ("glossary", glossary_command))
]
