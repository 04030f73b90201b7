"""Telegram handlers (thin: parse, call the service, reply) and the Korean texts users see.

Every dynamic value in a text is HTML-escaped (`esc`). No handler lets an exception reach a chat:
`on_error` logs it, tells the admins (once per 10 minutes per kind) and apologises to the user.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from telegram import (
    BotCommand,
    Chat,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.deliver import AlreadyPublishing, Broadcaster, HeldError
from bot.digest import Clock, DigestError, EmptyWeekError, SourceError
from bot.logs import redact
from bot.metrics import WEEK_REPLIES
from bot.models import ChatKind, Digest, Subscription
from bot.render import esc, render_paper, render_telegram
from bot.schedule import next_run, owed_week
from bot.store import StoreError
from bot.week import IsoWeek, WeekError, weeks_in_year

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
ALERT_INTERVAL = timedelta(minutes=10)
RENDERS_KEPT = 32  # weeks whose rendered digest (about 30 KB) and buttons are kept in memory

K = TypeVar("K")
V = TypeVar("V")


def keep(cache: dict[K, V], key: K, value: V, limit: int = RENDERS_KEPT) -> None:
    """Store `value` under `key` as the newest of at most `limit` entries (the oldest go first)."""
    cache.pop(key, None)
    while len(cache) >= limit:
        del cache[next(iter(cache))]
    cache[key] = value


# --- texts ---------------------------------------------------------------------------------------

EXAMPLES_KO = "예: <code>/week 2025-W38</code>, <code>/week 2025-09-15</code>, <code>/week 지난주</code>"
WELCOME = (
    "👋 <b>HF Weekly</b>는 매주 Hugging Face 인기 논문 Top 10을 Claude로 한국어 번역·요약해 "
    "보내 드리는 봇입니다.\n\n"
    "/week [주] — 그 주의 다이제스트 (예: /week 2025-W38)\n"
    "/latest — 지난주 다이제스트\n"
    "/subscribe — 매주 월요일 아침에 받아 보기\n"
    "/unsubscribe — 구독 해지\n"
    "/help — 도움말"
)
HELP = (
    "<b>사용법</b>\n\n"
    "/week [주] — 그 주의 인기 논문 다이제스트\n"
    "  <code>/week 2025-W38</code> · <code>/week 2025-09-15</code> (그 날짜가 속한 주) · "
    "<code>/week 지난주</code> · <code>/week 이번주</code>\n"
    "/latest — 지난주 다이제스트\n"
    "/subscribe — 이 대화에서 매주 받아 보기 (그룹에서는 관리자만)\n"
    "/subscribe @채널 또는 /subscribe -100… — 내가 관리하는 채널에 보내기 (봇과의 개인 대화에서)\n"
    "/unsubscribe — 구독 해지 (채널은 /unsubscribe @채널)\n\n"
    "다이제스트의 ‘전문 번역’ 링크를 누르면 논문 초록 전체의 한국어 번역을 볼 수 있습니다."
)
ADMIN_HELP = (
    "\n\n<b>관리자</b>\n/status — 상태\n/preview [주] — 구독자가 받을 다이제스트 미리보기\n"
    "/publish [주] — 지금 발행 (아직 받지 않은 대화에만)\n/retranslate &lt;논문 id&gt; — 다시 번역"
)
UNKNOWN = "알 수 없는 명령어입니다. /help 를 보내 보세요."
PLAIN_TEXT = "명령어로 말씀해 주세요. 예: /week 2025-W38 — 전체 목록은 /help"
SORRY = "죄송합니다, 처리하는 중에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요."
BUILDING = "⏳ {week} 다이제스트를 생성 중… (처음 만드는 주는 1분 정도 걸립니다)"
RATE_LIMITED = (
    "새로운 주의 다이제스트는 {window}분에 {limit}번까지 만들 수 있어요. 잠시 후 다시 시도해 주세요.\n"
    "이미 만들어진 주는 언제든 볼 수 있습니다. 예: /latest"
)
FUTURE = "{week}는 아직 끝나지 않은 미래의 주입니다. 가장 최근에 끝난 주는 {last}입니다.\n" + EXAMPLES_KO
EMPTY = "{week}에는 Hugging Face에 올라온 논문이 없습니다."
SOURCE_DOWN = "Hugging Face에서 {week} 논문 목록을 가져오지 못했습니다. 잠시 후 다시 시도해 주세요."
PAPER_UNKNOWN = "그 논문을 찾지 못했습니다. /latest 에서 최근 논문을 볼 수 있어요."
GROUP_ADMINS_ONLY = "그룹의 구독 설정은 그룹 관리자만 바꿀 수 있어요."
CHANNEL_FROM_PRIVATE = "채널 구독은 봇과의 개인 대화에서 <code>/subscribe @채널</code> 로 해 주세요."
NOT_A_CHANNEL_ARG = (
    "채널은 <code>@채널이름</code> 또는 <code>-100</code>으로 시작하는 id로 알려 주세요.\n예: /subscribe @hf_weekly_ko"
)


def _korean_week_error(exc: WeekError, text: str) -> str:
    if exc.reason == "no_such_week" and exc.year is not None:
        return f"{exc.year}년에는 {weeks_in_year(exc.year)}주까지만 있습니다.\n{EXAMPLES_KO}"
    if exc.reason == "bad_date":
        return f"‘{esc(text)}’은(는) 올바른 날짜가 아닙니다.\n{EXAMPLES_KO}"
    return f"‘{esc(text)}’은(는) 알아볼 수 있는 주가 아닙니다.\n{EXAMPLES_KO}"


# --- the handlers --------------------------------------------------------------------------------

COMMANDS = [
    BotCommand("week", "주간 인기 논문 다이제스트 (예: /week 2025-W38)"),
    BotCommand("latest", "지난주 다이제스트"),
    BotCommand("subscribe", "매주 받아 보기"),
    BotCommand("unsubscribe", "구독 해지"),
    BotCommand("help", "도움말"),
    BotCommand("start", "소개"),
]


class Commands:
    def __init__(self, app: App, clock: Clock, broadcaster: Broadcaster) -> None:
        self.app = app
        self.broadcaster = broadcaster
        self.settings = app.settings
        self.store = app.store
        self.digests = app.digests
        self.clock = clock
        # The last rendering of each week's digest, kept with the digest object it was made from:
        # DigestService.cached hands out the same object while its memo lasts, so a burst of /week
        # renders once. A new object (rebuilt, retranslated, memo expired) is rendered again.
        self._renders: dict[IsoWeek, tuple[Digest, str | None, list[str]]] = {}
        self._navs: dict[IsoWeek, tuple[IsoWeek, InlineKeyboardMarkup]] = {}

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE
        for name, callback in (
            ("start", self.start),
            ("help", self.help),
            ("week", self.week),
            ("latest", self.latest),
            ("subscribe", self.subscribe),
            ("unsubscribe", self.unsubscribe),
            ("status", self.status),
            ("preview", self.preview),
            ("retranslate", self.retranslate),
            ("publish", self.publish),
        ):
            application.add_handler(CommandHandler(name, callback))
        application.add_handler(CallbackQueryHandler(self.on_week_button, pattern=r"^w:"))
        application.add_handler(CallbackQueryHandler(self.on_subscribe_button, pattern=r"^sub$"))
        application.add_handler(ChatMemberHandler(self.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
        application.add_handler(MessageHandler(filters.COMMAND & private, self.unknown))
        application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, self.plain_text))
        application.add_error_handler(self.on_error)

    # --- small helpers ---------------------------------------------------------------------------

    def _last(self) -> IsoWeek:
        return IsoWeek.last_completed(self.clock(), self.settings.tz)

    def _is_admin(self, user: User | None) -> bool:
        return user is not None and user.id in self.settings.admins

    @staticmethod
    def _thread(message: Message | None) -> int | None:
        return message.message_thread_id if message is not None and message.is_topic_message else None

    async def _say(
        self, update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        chat = update.effective_chat
        assert chat is not None
        return await context.bot.send_message(
            chat.id, text, message_thread_id=self._thread(update.effective_message), reply_markup=markup
        )

    def nav(self, week: IsoWeek) -> InlineKeyboardMarkup:
        """◀ ▶ to the neighbouring weeks (no ▶ past the last completed week); the same object while
        the last completed week stays the same (an InlineKeyboardMarkup is immutable)."""
        last = self._last()
        kept = self._navs.get(week)
        if kept is not None and kept[0] == last:
            return kept[1]
        row = [InlineKeyboardButton(f"◀ {week.previous()}", callback_data=f"w:{week.previous()}")]
        if week.next() <= last:
            row.append(InlineKeyboardButton(f"{week.next()} ▶", callback_data=f"w:{week.next()}"))
        markup = InlineKeyboardMarkup([row])
        keep(self._navs, week, (last, markup))
        return markup

    # --- /start, /help, unknown ------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        assert chat is not None
        payload = context.args[0] if context.args else ""
        if payload.startswith("p_"):
            await self._paper(update, context, payload[2:].replace("_", "."))
            return
        if payload.startswith("w_"):
            await self._week(update, context, payload[2:])
            return
        text = WELCOME
        if chat.type == ChatType.PRIVATE:
            sub = await self.store.get_subscription(chat.id)
            if sub is not None and not sub.active:
                await self.store.set_subscription_active(chat.id, True, self.clock())
                text += "\n\n✅ 구독을 다시 시작했습니다. 매주 월요일 아침에 다이제스트를 보내 드릴게요."
            elif sub is not None:
                text += "\n\n✅ 이미 구독 중입니다."
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton("📬 구독하기", callback_data="sub"),
              InlineKeyboardButton("📰 지난주 다이제스트", callback_data="w:last")]]
        )  # fmt: skip
        await self._say(update, context, text, markup)

    async def help(self, update: Update, context: Context) -> None:
        await self._say(update, context, HELP + (ADMIN_HELP if self._is_admin(update.effective_user) else ""))

    async def unknown(self, update: Update, context: Context) -> None:
        await self._say(update, context, UNKNOWN)

    async def plain_text(self, update: Update, context: Context) -> None:
        text = update.effective_message.text if update.effective_message else ""
        try:
            IsoWeek.parse(text or "", now=self.clock(), tz=self.settings.tz)
        except WeekError:
            await self._say(update, context, PLAIN_TEXT)
            return
        await self._week(update, context, text or "")

    # --- weeks -----------------------------------------------------------------------------------

    async def week(self, update: Update, context: Context) -> None:
        await self._week(update, context, " ".join(context.args or []) or "last")

    async def latest(self, update: Update, context: Context) -> None:
        await self._week(update, context, "last")

    async def on_week_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        await query.answer()
        message = query.message if isinstance(query.message, Message) else None
        await self._week(update, context, query.data[2:], edit=message)

    def parse_week(self, text: str) -> IsoWeek | str:
        """The week `text` names, or the Korean answer saying why there is no digest for it."""
        now = self.clock()
        try:
            week = IsoWeek.parse(text, now=now, tz=self.settings.tz)
        except WeekError as exc:
            return _korean_week_error(exc, text)
        if not week.has_started(now, self.settings.tz):
            return FUTURE.format(week=week, last=self._last())
        return week

    async def _week(self, update: Update, context: Context, text: str, *, edit: Message | None = None) -> None:
        week = self.parse_week(text)
        if isinstance(week, str):
            await self._say(update, context, week)
            return
        digest = await self.digests.cached(week)
        if digest is None:
            user = update.effective_user
            limit, window = self.settings.week_build_limit, self.settings.week_build_window_minutes
            allowed = await self.store.hit_rate_limit(
                "week", user.id if user else 0, limit=limit, window=timedelta(minutes=window)
            )
            if not allowed:
                await self._say(update, context, RATE_LIMITED.format(limit=limit, window=window))
                return
            building = BUILDING.format(week=week)
            if edit is not None:
                await _edit(edit, building)
            else:
                edit = await self._say(update, context, building)
            try:
                digest = await self.digests.build(week)
            except EmptyWeekError:
                await _edit(edit, EMPTY.format(week=week), self.nav(week))
                return
            except SourceError as exc:
                log.warning("/week %s: %s", week, exc)
                await _edit(edit, SOURCE_DOWN.format(week=week), self.nav(week))
                return
        await self._send_digest(update, context, digest, edit=edit, markup=self.nav(week))
        WEEK_REPLIES.labels("handler").inc()

    async def _send_digest(
        self,
        update: Update,
        context: Context,
        digest: Digest,
        *,
        edit: Message | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        """The digest's parts; the first one replaces `edit` when given; the buttons go on the last."""
        parts = self.rendered(digest, context.bot.username)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if i == 0 and edit is not None:
                await _edit(edit, part, markup if last else None)
            else:
                await self._say(update, context, part, markup if last else None)

    def rendered(self, digest: Digest, username: str | None) -> list[str]:
        """The digest's Telegram parts (render_telegram), kept while the same digest object is served."""
        kept = self._renders.get(digest.week)
        if kept is not None and kept[0] is digest and kept[1] == username:
            return kept[2]
        parts = render_telegram(digest, bot_username=username)
        keep(self._renders, digest.week, (digest, username, parts))
        return parts

    async def _paper(self, update: Update, context: Context, paper_id: str) -> None:
        found = await self.store.get_paper(paper_id)
        if found is None:
            await self._say(update, context, PAPER_UNKNOWN)
            return
        paper, week = found
        translation = None
        if self.app.translator is not None:
            translation = (await self.app.translator.cached([paper])).get(paper.id)
        await self._say(update, context, render_paper(paper, translation, week))

    # --- subscriptions ---------------------------------------------------------------------------

    async def subscribe(self, update: Update, context: Context) -> None:
        chat, message = update.effective_chat, update.effective_message
        assert chat is not None
        if context.args:
            if chat.type != ChatType.PRIVATE:
                await self._say(update, context, CHANNEL_FROM_PRIVATE)
                return
            await self._say(
                update, context, await self._subscribe_channel(context, update.effective_user, context.args[0])
            )
            return
        await self._say(update, context, await self._subscribe_here(context, chat, message, update.effective_user))

    async def on_subscribe_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        message = query.message if isinstance(query.message, Message) else None
        chat = update.effective_chat
        assert chat is not None
        await self._say(
            update, context, await self._subscribe_here(context, chat, message, query.from_user, button=True)
        )

    async def _subscribe_here(
        self, context: Context, chat: Chat, message: Message | None, user: User | None, *, button: bool = False
    ) -> str:
        if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
            if not await self._is_group_admin(context, chat, None if button else message, user):
                return GROUP_ADMINS_ONLY
        elif chat.type != ChatType.PRIVATE:
            return CHANNEL_FROM_PRIVATE
        thread = self._thread(message) if chat.is_forum else None
        where = "이 주제" if thread else ("이 그룹" if chat.type != ChatType.PRIVATE else "이 대화")
        title = chat.title or chat.full_name or chat.username or str(chat.id)
        return await self._save_subscription(chat.id, ChatKind(chat.type), title, thread, user, where)

    async def _save_subscription(
        self, chat_id: int, kind: ChatKind, title: str, thread: int | None, user: User | None, where: str
    ) -> str:
        now = self.clock()
        existing = await self.store.get_subscription(chat_id)
        if existing is not None and existing.active and existing.thread_id == thread:
            return f"이미 구독 중입니다. 매주 월요일 아침 {where}에 다이제스트가 옵니다."
        sub = Subscription(
            chat_id=chat_id,
            kind=kind,
            title=title,
            active=True,
            since=existing.since if existing else now,
            updated=now,
            thread_id=thread,
            by_user=user.id if user else None,
        )
        await self.store.save_subscription(sub)
        log.info("Subscribed chat %s (%s, thread %s)", chat_id, kind, thread)
        if existing is not None and existing.active:
            return f"✅ 다이제스트를 받을 곳을 {where}(으)로 옮겼습니다."
        again = "다시 " if existing is not None else ""
        return f"✅ 구독을 {again}시작했습니다. 매주 월요일 아침 {where}에 한국어 다이제스트를 보내 드릴게요. 해지는 /unsubscribe"

    async def _is_group_admin(self, context: Context, chat: Chat, message: Message | None, user: User | None) -> bool:
        if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True  # an anonymous administrator, posting as the group
        if user is None:
            return False
        member = await context.bot.get_chat_member(chat.id, user.id)
        return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)

    async def _channel(
        self, context: Context, user: User | None, target: str, *, bot_posts: bool = False
    ) -> ChatFullInfo | str:
        """The channel `target` names, if the user administers it (and, with `bot_posts`, the bot may post
        there); else the Korean reason. The bot is checked first: Telegram shows a channel's members to
        a bot only when it is an administrator there."""
        if not (target.startswith("@") or target.removeprefix("-").isdigit()):
            return NOT_A_CHANNEL_ARG
        try:
            chat = await context.bot.get_chat(target)
        except (BadRequest, Forbidden):
            return (
                f"채널 {esc(target)}을(를) 찾지 못했습니다. 공개 채널이면 @이름이 맞는지, "
                "비공개 채널이면 봇을 먼저 채널 관리자로 추가했는지 확인해 주세요."
            )
        if chat.type != ChatType.CHANNEL:
            return f"{esc(target)}은(는) 채널이 아닙니다. 그룹은 그 그룹 안에서 /subscribe 해 주세요."
        name = esc(chat.title or target)
        if bot_posts:
            try:
                me = await context.bot.get_chat_member(chat.id, context.bot.id)
            except TelegramError:
                me = None
            if not isinstance(me, ChatMemberAdministrator):
                return (
                    f"봇이 채널 {name}의 관리자가 아닙니다. 채널 설정 → 관리자 → 관리자 추가에서 "
                    f"@{esc(context.bot.username)}을(를) 추가하고 ‘메시지 게시’ 권한을 주세요."
                )
            if not me.can_post_messages:
                return f"봇에게 채널 {name}의 ‘메시지 게시’ 권한이 없습니다. 관리자 설정에서 권한을 켜 주세요."
        if user is None:
            return f"채널 {esc(chat.title or target)}의 관리자만 구독을 바꿀 수 있어요."
        try:
            member = await context.bot.get_chat_member(chat.id, user.id)
        except TelegramError:
            member = None
        if member is None or member.status not in (ChatMember.OWNER, ChatMember.ADMINISTRATOR):
            return f"채널 {esc(chat.title or target)}의 관리자만 구독을 바꿀 수 있어요."
        return chat

    async def _subscribe_channel(self, context: Context, user: User | None, target: str) -> str:
        chat = await self._channel(context, user, target, bot_posts=True)
        if isinstance(chat, str):
            return chat
        name = esc(chat.title or target)
        title = chat.title or chat.username or str(chat.id)
        return await self._save_subscription(chat.id, ChatKind.CHANNEL, title, None, user, f"채널 {name}")

    async def unsubscribe(self, update: Update, context: Context) -> None:
        chat, message, user = update.effective_chat, update.effective_message, update.effective_user
        assert chat is not None
        if context.args:
            if chat.type != ChatType.PRIVATE:
                await self._say(update, context, CHANNEL_FROM_PRIVATE)
                return
            target = await self._channel(context, user, context.args[0])
            if isinstance(target, str):
                await self._say(update, context, target)
                return
            chat_id, where = target.id, f"채널 {esc(target.title or context.args[0])}"
        else:
            if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and not await self._is_group_admin(
                context, chat, message, user
            ):
                await self._say(update, context, GROUP_ADMINS_ONLY)
                return
            chat_id, where = chat.id, "이 대화"
        if await self.store.delete_subscription(chat_id):
            log.info("Unsubscribed chat %s", chat_id)
            await self._say(update, context, f"구독을 해지했습니다. {where}에는 더 이상 다이제스트가 가지 않습니다.")
        else:
            await self._say(update, context, f"{where}은(는) 구독하고 있지 않습니다. 구독하려면 /subscribe")

    async def on_my_chat_member(self, update: Update, context: Context) -> None:
        change = update.my_chat_member
        assert change is not None
        status = change.new_chat_member.status
        if status in (ChatMember.BANNED, ChatMember.LEFT):
            sub = await self.store.set_subscription_active(change.chat.id, False, self.clock())
            if sub is not None:
                log.info("Bot removed from chat %s (%s): subscription kept, inactive", change.chat.id, status)

    # --- admins ----------------------------------------------------------------------------------

    async def status(self, update: Update, context: Context) -> None:
        if not self._is_admin(update.effective_user):
            await self._not_for_you(update, context)
            return
        subs = await self.store.list_subscriptions()
        lines = ["📊 <b>상태</b>", "", "<b>구독</b>"]
        for kind in ChatKind:
            active = sum(1 for s in subs if s.kind is kind and s.active)
            inactive = sum(1 for s in subs if s.kind is kind and not s.active)
            lines.append(f"{kind.value}: 활성 {active} · 비활성 {inactive}")
        this_week = IsoWeek.current(self.clock(), self.settings.tz)
        usage = await self.store.get_usage(this_week, spent=True)
        lines += [
            "",
            f"<b>번역 캐시</b>: {await self.store.count_translations()}편",
            f"<b>이번 주({this_week}) Claude 사용</b>: 호출 {usage['calls']} · 입력 {usage['input_tokens']:,} · "
            f"출력 {usage['output_tokens']:,} · 캐시 읽기 {usage['cache_read_input_tokens']:,} · "
            f"캐시 쓰기 {usage['cache_creation_input_tokens']:,} 토큰",
        ]
        last = await self.store.get_json("publish", "last")
        upcoming = next_run(self.settings, self.clock())
        lines += ["", "<b>정기 발행</b>"]
        if last:
            lines.append(
                f"지난 발행: {esc(last['week'])} ({esc(last['started'][:16])}) — 대화 {last['chats']} · 보냄 {last['sent']} · "
                f"이미 보냄 {last['already']} · 실패 {last['failed']} · 비활성 {last['inactive']} · "
                f"결과 불명 {last['unknown']} · 번역 대기 {last['pending_papers']}편"
            )
        else:
            lines.append("지난 발행: 없음")
        lines.append(
            f"다음 발행: {upcoming.strftime('%Y-%m-%d %H:%M %Z') if upcoming else '없음'} ({esc(self.settings.schedule)})"
        )
        owed = owed_week(self.settings, self.clock())
        hold = await self.store.get_json("publish", "hold", str(owed)) if owed else None
        if hold:
            state = "포기함 (/publish 로 직접 보낼 수 있음)" if hold.get("gave_up") else "30분마다 다시 확인 중"
            lines.append(f"보류: {owed} — {esc(hold['reason'])} ({state})")
        healing = await self.store.heal_weeks()
        if healing:
            lines.append(f"번역 대기 중인 주: {', '.join(esc(w) for w in sorted(healing))}")
        await self._say(update, context, "\n".join(lines))

    async def _admin_week(self, update: Update, context: Context) -> IsoWeek | None:
        """The week an admin command names (default: last week); None when it answered already."""
        if not self._is_admin(update.effective_user):
            await self._not_for_you(update, context)
            return None
        text = " ".join(context.args or []) or "last"
        try:
            return IsoWeek.parse(text, now=self.clock(), tz=self.settings.tz)
        except WeekError as exc:
            await self._say(update, context, _korean_week_error(exc, text))
            return None

    async def publish(self, update: Update, context: Context) -> None:
        if (week := await self._admin_week(update, context)) is None:
            return
        if not week.is_completed(self.clock(), self.settings.tz):
            await self._say(update, context, f"{week}는 아직 끝나지 않았습니다. 끝난 주만 발행할 수 있어요.")
            return
        await self._say(update, context, f"📤 {week} 발행을 시작합니다 (아직 받지 않은 대화에만 보냅니다).")
        try:
            report = await self.broadcaster.publish(week)
        except (HeldError, DigestError) as exc:
            await self._say(update, context, f"⏸ {week}를 발행하지 않았습니다: {esc(str(exc))}")
            return
        except AlreadyPublishing:
            await self._say(update, context, f"{week}는 지금 다른 곳에서 발행 중입니다.")
            return
        await self._say(
            update, context,
            f"✅ {week} 발행 끝: 대화 {report.chats} · 새로 보냄 {report.sent} · 이미 보냄 {report.already} · "
            f"실패 {report.failed} · 비활성 {report.inactive} · 결과 불명 {report.unknown} · 번역 대기 {report.pending_papers}편",
        )  # fmt: skip

    async def preview(self, update: Update, context: Context) -> None:
        if (week := await self._admin_week(update, context)) is None:
            return
        if not week.has_started(self.clock(), self.settings.tz):
            await self._say(update, context, FUTURE.format(week=week, last=self._last()))
            return
        placeholder = await self._say(update, context, BUILDING.format(week=week))
        try:
            digest = await self.digests.build(week)
        except DigestError as exc:
            await _edit(placeholder, f"미리보기를 만들 수 없습니다: {esc(str(exc))}")
            return
        await _edit(
            placeholder,
            f"👀 {week} 미리보기 — 구독자에게는 아래 메시지가 갑니다. (대기 중 번역 {len(digest.pending)}편)",
        )
        await self._send_digest(update, context, digest)

    async def retranslate(self, update: Update, context: Context) -> None:
        if not self._is_admin(update.effective_user):
            await self._not_for_you(update, context)
            return
        if not context.args:
            await self._say(update, context, "사용법: /retranslate 2509.13310")
            return
        paper_id = context.args[0].removeprefix("p_").replace("_", ".")
        found = await self.store.get_paper(paper_id)
        if found is None or self.app.translator is None:
            await self._say(update, context, f"논문 {esc(paper_id)}을(를) 찾지 못했습니다.")
            return
        paper, week = found
        dropped = await self.store.delete_translations(paper.id)
        self.digests.forget(week)
        translation = await self.app.translator.translate(paper, week=week)
        if translation is None:
            await self._say(
                update,
                context,
                f"{esc(paper.id)} 번역에 실패했습니다 (이유는 로그에). 이전 번역 {dropped}개는 지웠습니다.",
            )
        else:
            await self._say(update, context, f"✅ {esc(paper.id)}을(를) 다시 번역했습니다: {esc(translation.title_ko)}")

    async def _not_for_you(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            await self._say(update, context, UNKNOWN)

    # --- errors ----------------------------------------------------------------------------------

    async def on_error(self, update: object, context: Context) -> None:
        error = context.error
        log.error("Handler failed on %s", _describe(update), exc_info=error)
        if error is None:
            return
        kind = type(error).__name__
        secrets = self.settings.secrets()
        try:
            if self.settings.admins and await self.store.once(f"alert:{kind}", ALERT_INTERVAL):
                text = f"⚠️ 처리 중 오류: <b>{esc(kind)}</b>\n{esc(redact(str(error), secrets))[:1000]}\n(10분 동안 같은 종류는 다시 알리지 않습니다)"
                for admin in self.settings.admins:
                    try:
                        await context.bot.send_message(admin, text)
                    except TelegramError as exc:
                        log.warning("Could not alert admin %s: %s", admin, exc)
        except StoreError as exc:
            log.warning("Could not throttle the admin alert: %s", exc)
        if isinstance(update, Update) and update.effective_chat is not None:
            text = (
                "잠시 후 다시 시도해 주세요. (저장소에 연결할 수 없습니다)" if isinstance(error, StoreError) else SORRY
            )
            try:
                await context.bot.send_message(
                    update.effective_chat.id, text, message_thread_id=self._thread(update.effective_message)
                )
            except TelegramError as exc:
                log.warning("Could not apologise in chat %s: %s", update.effective_chat.id, exc)


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc):
            raise


def _describe(update: object) -> str:
    if isinstance(update, Update):
        chat = update.effective_chat
        return f"update {update.update_id} (chat {chat.id if chat else '-'})"
    return html.escape(repr(update))[:200]
