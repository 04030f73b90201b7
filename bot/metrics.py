"""Prometheus metrics (prometheus-client). Counters are counted where things happen; the gauges that
describe stored state (subscribers, last publish, pending translations) are read from Redis when
/metrics is scraped."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("hfweekly_messages_total", "Broadcast sends by result", ["result"])
TRANSLATIONS = Counter("hfweekly_translations_total", "Claude translations by result", ["result"])
BRIEFS = Counter("hfweekly_briefs_total", "Deep briefs by result (made, rejected, api_error, failed)", ["result"])
CLAUDE_TOKENS = Counter("hfweekly_claude_tokens_total", "Claude tokens by kind", ["kind"])
TRANSLATION_CACHE = Counter("hfweekly_translation_cache_total", "Translation cache lookups", ["result"])
WEEK_REPLIES = Counter("hfweekly_week_replies_total", "Digests sent in answer to /week, /latest and week links")
BUILD_SECONDS = Histogram(
    "hfweekly_digest_build_seconds",
    "Digest builds (cached or not)",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
SUBSCRIBERS = Gauge("hfweekly_active_subscribers", "Active subscriptions by chat kind", ["kind"])
LAST_PUBLISH = Gauge("hfweekly_last_successful_publish_timestamp_seconds", "When the last complete publish ended")
PENDING = Gauge("hfweekly_pending_translations", "Papers sent untranslated, still awaiting healing")
VALIDATION_REJECTED = Counter(
    "hfweekly_validation_rejected_total", "Claude answers the gate rejected, by reason", ["reason"]
)
GLOSSARY_MISSED = Counter("hfweekly_glossary_missed_total", "Glossary terms a translation did not follow (accepted)")
EDITS = Counter("hfweekly_edits_total", "Sent messages the editor brought up to date, by result", ["result"])
READER_REPORTS = Counter("hfweekly_reader_reports_total", "Readers' reports of wrong translations", ["reason"])
