"""The context an operation records with: the deployment's, with this person as actor."""

from __future__ import annotations

import copy

from followup.context import Context
from followup.operations.policy import Principal


def acting(ctx: Context, p: Principal) -> Context:
    """The deployment's context with this person as the actor of what it records (audit
    lines, `recorded_by`). A shallow copy: the loaded protocols and key are shared."""
    mine = copy.copy(ctx)
    mine.actor = p.actor
    return mine
