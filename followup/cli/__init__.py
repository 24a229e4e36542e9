"""`followup …`, the command line: one module per area (setup, casework, schedule,
dispatch, report, accounts), the shared options in `common`, the group and the edge in
`main`. Commands parse, call one operation and print; the words they offer come from
followup.vocab, so `--help` imports neither SQLAlchemy nor numpy."""

from __future__ import annotations

from followup.cli.main import cli, main

__all__ = ["cli", "main"]
