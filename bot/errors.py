"""The project's exception tree, and the command line's exit status of each (mapped here only).

Exit status: 0 done; 1 failed (nothing to show, a dependency failing, chats owed a retry);
2 bad usage or configuration; 3 the digest was printed but some papers are pending translation;
130 stopped early (SIGINT/SIGTERM) with work left for the next run (`run` stopped by a signal is a clean
stop: 0).
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PENDING, EXIT_STOPPED = 0, 1, 2, 3, 130


class HfweeklyError(Exception):
    """Base of every error of ours; its message says what went wrong (in English)."""

    exit_status = EXIT_FAILED


class UsageError(HfweeklyError):
    """Bad input or configuration: the user can fix it."""

    exit_status = EXIT_USAGE


class ConfigError(UsageError):
    """The configuration cannot be used; the message says what to fix."""


class WeekError(UsageError, ValueError):
    """Text that is not a week, or a week that does not exist.

    `reason` is one of "empty", "not_a_week", "bad_date", "no_such_week" (then `year` is set),
    "too_early" (before Hugging Face's daily papers began), so that chat handlers can say it in
    Korean; the message itself is English, for the command line.
    """

    def __init__(self, message: str, *, reason: str = "not_a_week", year: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.year = year


class StoreError(HfweeklyError):
    """Redis could not be reached, refused a write (full, read-only) or answered something unreadable."""


class DigestError(HfweeklyError):
    """A digest cannot be built; the message says why."""


class SourceError(DigestError):
    """Hugging Face (or arXiv) could not give us what we asked for; the message names the URL."""


class FutureWeekError(DigestError):
    exit_status = EXIT_USAGE


class TooEarlyWeekError(DigestError):
    """A week before Hugging Face's daily papers began."""

    exit_status = EXIT_USAGE


class EmptyWeekError(DigestError):
    pass


class HeldError(HfweeklyError):
    """The source gate held the publish: too few papers, or papers without title or abstract."""


class AlreadyPublishing(HfweeklyError):
    """Another process holds this week's publish lock."""


class TelegramStartError(HfweeklyError):
    """The bot could not start talking to Telegram; the message says which of the three it was."""


class TokenRejected(TelegramStartError):
    exit_status = EXIT_USAGE


def exit_status(error: BaseException) -> int:
    """The command line's exit status for an error (ours: its class's; anything else: 1)."""
    return error.exit_status if isinstance(error, HfweeklyError) else EXIT_FAILED
