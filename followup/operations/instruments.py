"""Instruments as content: the codebook an evaluator reads beside an export."""

from __future__ import annotations

from followup import codebook as codebook_render
from followup.context import Context


def codebook(ctx: Context, fmt: str) -> str:
    """The codebook of every instrument file, in `fmt` (md, csv, json). It holds no
    personal data (structure and wording only), so it needs no role and writes no audit."""
    return codebook_render.render(ctx.instruments.values(), fmt)
