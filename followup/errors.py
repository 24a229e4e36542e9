"""Errors a user can act on.

Every error the CLI shows is one of these: one line that names the file, the row or
key, and the fix. Anything else escaping to the CLI is a bug and is shown as such.
"""

from __future__ import annotations


class FollowupError(Exception):
    """An error whose message is fit to show a social worker as it is."""


class ConfigError(FollowupError):
    """config.toml or a protocol file is wrong."""


class NotFound(FollowupError):
    """A case id, partner id, staff id or site that does not exist."""


class InvalidRecord(FollowupError):
    """A record that contradicts what is already known (dates out of order, ...)."""


class InvalidAnswers(InvalidRecord):
    """An instrument's answers with problems, each kept by the item it belongs to (and a
    band override's by its score), so a page can show each next to its field and the CLI
    can print `FILE: item: problem` lines. Nothing was written."""

    def __init__(
        self,
        instrument: str,
        problems: dict[str, str],
        override_problems: dict[str, str] | None = None,
    ) -> None:
        self.instrument = instrument
        self.problems = dict(problems)
        self.override_problems = dict(override_problems or {})
        lines = [f"{name}: {problem}" for name, problem in self.problems.items()]
        lines += [f"override {name}: {problem}" for name, problem in self.override_problems.items()]
        super().__init__(
            f"{instrument}: {len(lines)} problem(s) in the answers; nothing was recorded\n"
            + "\n".join(lines)
        )


class AlreadyRecorded(InvalidRecord):
    """A case id or partner id that is already taken."""


class KeyUnavailable(FollowupError):
    """Encrypted partner data exists but no key to open it."""


class CsvRejected(FollowupError):
    """A CSV file with problems; nothing from it was written."""

    def __init__(self, path: str, problems: list[str], total: int) -> None:
        self.path = path
        self.problems = problems
        self.total = total
        super().__init__(f"{path}: {total} problem(s); nothing was imported")


# Refusals of the person (followup.operations.policy), not of the record: deliberately
# not FollowupErrors, so a page that shows a refused write as a form problem never shows
# a refusal of the person as one.


class Forbidden(Exception):
    """This kind of action is not for this person (the web answers 403; the CLI says so
    on one line and exits 1)."""


class NotVisible(Exception):
    """A record that does not exist, or that this person may not know exists (the web
    answers 404; the CLI says so on one line and exits 1)."""
