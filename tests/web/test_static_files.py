"""The static files parse: a stylesheet with an unclosed rule silently swallows every
rule after it (the print stylesheet went that way once)."""

from __future__ import annotations

from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "followup" / "web" / "static"


@pytest.mark.parametrize("name", ["app.css", "app.js"])
def test_every_block_in_a_static_file_is_closed(name):
    text = (STATIC / name).read_text(encoding="utf-8")
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{name}:{number}: a block closed that was never opened"
    assert depth == 0, f"{name}: {depth} block(s) never closed"
