"""Reminders: the outbox, the planner, the sender.

Other packages queue messages with `enqueue(session, [Message(...)], now=...)` inside
their own transaction (never by writing outbox rows themselves), and cancel what no
longer applies with `cancel_stale`. `followup.dispatch.run.run_pass` is one dispatch
pass: plan what fell due, then send what is queued.
"""

from __future__ import annotations

__all__ = ["Message", "cancel_stale", "enqueue"]


def __getattr__(name: str):
    # Imported on first use, so registering the CLI commands keeps `followup due` quick.
    if name in __all__:
        from followup.dispatch import outbox

        return getattr(outbox, name)
    raise AttributeError(f"module 'followup.dispatch' has no attribute {name!r}")
