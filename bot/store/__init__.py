"""Store: every Redis key, its TTL and its encoding live in this package; callers get and give typed values.

Keys (all under `<prefix>:`), by the module that owns them:
  base.py
    health                        written by /healthz's probe (a full or read-only Redis refuses it)
    once:<what>                   marker that something happened lately: alert:<kind> (an admin was
                                  alerted), budget:<date> (admins told), heal-gave-up:<week>
  papers.py
    snapshot:<week>               JSON Snapshot: a week's ranking (frozen once it passes the source gate)
    paper:<paper id>              JSON Paper and the week it was ranked in (deep links)
    tr:<paper id>:<content hash>:<model>:<prompt hash>   JSON Translation
    tr:…:<instructions hash>      the same, translated with an admin's instructions (a correction)
    tr:…:failed                   marker: translating it failed recently
    usage:<week>                  hash of Claude token counts spent building that week's digest
    usage:spent:<week>            hash of Claude token counts spent during that week
    archive:version               bumped when a week is frozen (the search index rebuilds)
    content:version               bumped when a week is frozen, a translation or a brief saved (web pages)
    found:<paper id>              JSON Paper found on demand (Hugging Face or arXiv), 30 days
    ondemand:user:<id>:<date>     how many new on-demand translations the person had that day
    ondemand:day:<date>           hash of Claude token counts of on-demand translations that day (budget)
    ondemand:week:<week>          the same per week (/status)
  fulltext.py
    fulltext:<paper id>           a paper's full text (bot/sources/fulltext.py): JSON FullText, zlib-compressed
                                  and base64'd; 30 days (a day when only the abstract was found)
  briefs.py
    brief:<paper id>:<model>:<prompt hash>:<full text hash>   JSON Brief (bot/brief.py), 400 days
    brief:…:failed                marker: making it failed recently (15 minutes)
  questions.py                    questions answered from a paper (bot/ask.py; see the module)
    qa:<user>:<paper>, msgpaper:<chat>:<msg>, ask:user:<user>:<date>
  chats.py
    subs                          hash chat id -> JSON Subscription (no TTL: subscriptions are kept)
    chat_settings                 hash chat id -> JSON ChatSettings (/settings; kept after unsubscribing)
    slot:<slot>                   set of the chats to get the digest in that slot (active, not paused)
    slot_of                       hash chat id -> its slot in the index
    slots:indexed                 marker: the index was built from the subscriptions
    chat:<id>:w                   a chat's write token: every write of the chat's records above sets it
                                  (and deletes it) in its MULTI; a change of the chat WATCHes it only
  delivery.py
    ledger:<week>                 hash chat id -> JSON LedgerEntry (bot/ledger.py)
    ledger:<week>:layouts         hash view key -> JSON Layout: a view's messages as first sent
    ledger:<week>:plan            JSON: the week's plan before views (read for healing old weeks)
    ledger:<week>:owed            set of chats owed the week by a later run
    ledger:<week>:slots           set of the slots that have delivered the week
    publish:done:<week>           JSON Report of the run that completed a week
    publish:last                  JSON Report of the latest publish run (any week)
    publish:hold:<week>           JSON Hold: a publish held by the source gate
    publish:retries               sorted set: week -> when its chats owed a retry are due (epoch s)
    heal                          hash week -> JSON HealRecord: sent weeks whose messages await healing
  runs.py
    lock:publish:<week>           the publish lock of a week (one sender at a time); its value is the
                                  holding run's token, which every ledger write of the run checks
    ledger:<week>:owed:gen        counter bumped when a chat is owed the week at once (owe_now)
  trust.py
    glossary                      hash term -> "English=한국어" added in chat, or "" (a default removed)
    instructions                  hash paper id -> JSON list of an admin's instructions (/retranslate)
    gate:<week>                   hash reason -> answers the gate rejected that week
    gate:<week>:glossary          hash term -> glossary misses accepted that week; …:recent the latest
    reports:<paper id>            hash user id -> JSON ReaderReport (open reports)
    reports:open                  sorted set paper id -> time of its latest open report
    reports:day:<user>:<date>     how many reports the person made that day
    reports:prompt:<chat>:<msg>   the paper a "add a comment" prompt is about (a reply to it finds it)
  edits.py                        the paper→message index and the editor's queue (see the module)
    shows:<paper id>, shown:<ref>, shown:<week>:layouts, msgref:<chat>, edit:dirty, edit:later,
    edit:seq, edit:progress, edit:stats, lock:editor
  leases.py
    lease:leader                  the scheduler's and poller's lease: `<random token> <host:pid>` of the
                                  process leading, lapsing unless renewed (bot/leader.py)
    update:<bot id>:<update id>   marker: a process claimed this update (handled once), 1 day
  limits.py
    send:all, send:paid,          the send limiter's slots (GCRA: when the next send may go, epoch s):
    send:chat:<id>                the free budget, the paid broadcast's, a group's or channel's; a 429
                                  pushes the one Telegram paused forward, so every process waits it out
    paid:<week>                   how many of the week's broadcast messages went as paid broadcasts
    hf:calls:<window>             requests to Hugging Face in a 5-minute window (epoch s // 300), 10 min
    ratelimit:week:<user id>      sorted set of the user's recent builds of new weeks (sliding window)
    outbox                        list of JSON Notice: what Telegram did not take from admins' notices,
                                  oldest first (100 at most, 7 days); lock:outbox, one sender of them

Every Redis failure reaches callers as StoreError (bot/errors.py).
"""

from __future__ import annotations

from bot.errors import StoreError
from bot.layout import Layout
from bot.store.briefs import BriefStore
from bot.store.chats import ChatState, ChatStore
from bot.store.delivery import DeliveryStore, LedgerRead
from bot.store.edits import EditStats, EditStore
from bot.store.fulltext import FullTextStore
from bot.store.leases import Lease, LeaseStore
from bot.store.limits import LimitStore, Notice
from bot.store.papers import PaperStore
from bot.store.questions import QuestionStore
from bot.store.runs import LockLost, PublishLock, RunStore
from bot.store.trust import GateCounts, TrustStore

__all__ = [  # the facets (…Store): a service is typed with those it uses; only the composition root knows Store
    "BriefStore", "ChatState", "ChatStore", "DeliveryStore", "EditStats", "EditStore", "FullTextStore", "GateCounts",
    "Layout", "Lease", "LeaseStore", "LedgerRead", "LimitStore", "LockLost", "Notice", "PaperStore", "PublishLock",
    "QuestionStore", "RunStore", "Store", "StoreError", "TrustStore",
]  # fmt: skip


class Store(
    PaperStore, ChatStore, DeliveryStore, RunStore, LimitStore, TrustStore, EditStore, LeaseStore, FullTextStore,
    BriefStore, QuestionStore,
):  # fmt: skip
    """The one Redis store (its parts by concern: papers.py, chats.py, delivery.py, runs.py, limits.py,
    trust.py, edits.py, leases.py, fulltext.py, briefs.py, questions.py)."""
