"""Checkpoint labels as staff read them, in their language, for stored follow-ups.

A follow-up names its checkpoint and the protocol revision it was planned from. Labels do
not count towards a revision (a translation moves no date), so the label comes from the
protocol file as it is now when it still has the checkpoint, and from the stored
revision otherwise (a checkpoint since removed keeps its old label).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from followup.context import Context
from followup.protocol import checkpoint_label


class CheckpointLabels:
    """`labels(revision, name, subject)`: the label in `language`, cached per call site."""

    def __init__(self, session: Session, ctx: Context, language: str) -> None:
        self.session, self.ctx, self.language = session, ctx, language
        self.cache: dict[tuple[str, str, str], str] = {}

    def __call__(self, revision: str, name: str, subject: str) -> str:
        key = (revision, name, subject)
        if key not in self.cache:
            stored = self.ctx.protocol_at(self.session, revision)
            current = self.ctx.protocols.get(stored.id)
            protocols = [current, stored] if current is not None else [stored]
            self.cache[key] = checkpoint_label(protocols, name, subject, self.language)
        return self.cache[key]
