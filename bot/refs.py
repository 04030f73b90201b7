"""What a sent message shows, named so that it can be rendered again: a `Ref`. Pure.

Every message the bot sends that shows papers is indexed under its ref (bot/store/edits.py): a part of
a week's digest as the broadcast laid it out for a view (`w`), a part of a digest sent in answer to
/week (`v`, laid out the same way and kept apart), or a part of one paper's answer (`p`: /paper, the
full translation, the placeholder of an on-demand answer). Each paper knows the refs that show it, so
when its text changes the editor renders each of those refs once and edits only the messages under
them whose text differs (the index keeps a hash of the text each message shows now).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    DIGEST = "w"  # the weekly broadcast: ledger:<week>:layouts[layout]
    REPLY = "v"  # a digest sent in answer to /week: shown:<week>:layouts[layout]
    PAPER = "p"  # one paper's answer, `parts` messages long


@dataclass(frozen=True)
class Ref:
    kind: Kind
    subject: str  # the week (w, v) or the paper id (p)
    layout: str  # the layout's key (w, v); "" for a paper
    part: int
    parts: int = 0  # how many messages a paper's answer has (p)

    def __str__(self) -> str:
        tail = self.layout if self.kind is not Kind.PAPER else str(self.parts)
        return f"{self.kind.value}|{self.subject}|{tail}|{self.part}"

    @classmethod
    def parse(cls, text: str) -> Ref | None:
        """The ref `str(ref)` wrote; None for anything else."""
        fields = text.split("|")
        if len(fields) != 4 or fields[0] not in {k.value for k in Kind} or not fields[3].isdigit():
            return None
        kind = Kind(fields[0])
        if kind is Kind.PAPER:
            if not fields[2].isdigit() or int(fields[3]) >= int(fields[2]):
                return None
            return cls(kind, fields[1], "", int(fields[3]), int(fields[2]))
        return cls(kind, fields[1], fields[2], int(fields[3]))

    @property
    def last(self) -> bool:
        """Is this the last message of a paper's answer (the one with the report button)?"""
        return self.kind is Kind.PAPER and self.part == self.parts - 1


def paper_refs(paper_id: str, parts: int) -> list[Ref]:
    return [Ref(Kind.PAPER, paper_id, "", i, parts) for i in range(parts)]


def text_hash(text: str) -> str:
    """What the index keeps of a message's text: enough to tell that it changed."""
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def member(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def parse_member(text: str) -> tuple[int, int] | None:
    chat, _, message = text.rpartition(":")
    try:
        return int(chat), int(message)
    except ValueError:
        return None
