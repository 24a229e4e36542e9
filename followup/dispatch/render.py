"""Message templates: `messages/LANGUAGE/KIND.PART`, rendered with Jinja2.

Parts: `sms.txt` (one or two GSM-7 segments), `subject.txt`, `email.txt` (also what the
console prints) and `email.html` (autoescaped; extends `_layout.html`). Checkpoint
labels come from the protocol files, in each language (followup.labels), the same words
as the web pages.

Templates only ever receive case ids, checkpoint labels, dates, counts, staff names and
links: the data builder (followup.dispatch.content) has nothing else to give them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from followup.config import LANGUAGES
from followup.values import escape_controls

SHIPPED = Path(__file__).resolve().parents[2] / "messages"
KINDS = ("reminder", "digest", "catch_up", "escalation", "alert", "delivery_problem")
PARTS = ("sms.txt", "subject.txt", "email.txt", "email.html")


@dataclass(frozen=True)
class Rendered:
    """The parts asked for; the others are None."""

    subject: str | None = None
    text: str | None = None  # e-mail body, and what the console prints
    html: str | None = None
    sms: str | None = None


ALL_PARTS = ("subject", "text", "html", "sms")


class Templates:
    def __init__(self, folder: Path | None = None) -> None:
        roots = [folder] if folder is not None and folder.is_dir() and folder != SHIPPED else []
        roots.append(SHIPPED)
        self.roots = roots
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(root)) for root in roots]),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,  # a misspelt variable is an error, not a blank
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(
        self, kind: str, language: str, data: dict, parts: tuple[str, ...] = ALL_PARTS
    ) -> Rendered:
        language = language if language in LANGUAGES else "en"
        values = {**_one_line_values(data), "lang": language}

        def part(name: str) -> str:
            try:
                template = self.env.get_template(f"{language}/{kind}.{name}")
            except TemplateNotFound:
                template = self.env.get_template(f"en/{kind}.{name}")
            return template.render(values)

        return Rendered(
            subject=" ".join(part("subject.txt").split()) if "subject" in parts else None,
            text=_tidy(part("email.txt")) + "\n" if "text" in parts else None,
            html=part("email.html") if "html" in parts else None,
            sms=_tidy(part("sms.txt")) if "sms" in parts else None,
        )


def _one_line_values(value):
    """Every text value with its control characters written as escapes: a line break in
    a staff name or a checkpoint label cannot start a line of the message of its own."""
    if isinstance(value, str):
        return escape_controls(value)
    if isinstance(value, dict):
        return {key: _one_line_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_one_line_values(item) for item in value)
    return value


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, none at either end."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy)
