"""`followup report`: the outcome report as text, JSON, HTML or CSV."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from followup import vocab
from followup.cli.common import DATE, as_option, config_option, open_context, principal

# From followup.vocab, so `--help` needs no numpy (followup.report.build checks the same).
FORMATS = vocab.REPORT_FORMATS
BY = vocab.REPORT_BY
ORIGINS = vocab.REPORT_ORIGINS
SOURCES = vocab.REPORT_SOURCE_CHOICES
LANGUAGES = ("en", "sr-Latn", "sq")  # followup.config.LANGUAGES (tests/test_cli.py checks)


@click.command("report")
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help='text: a short summary; json: every figure (DESIGN.md "Report JSON"); '
    "html: one self-contained page with plots; csv: tidy long format.",
)
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="Report things as they stood on this date. Default: today.",
)
@click.option(
    "--site", default=None, help="Only this site (a code from config.toml). Default: every site."
)
@click.option(
    "--by",
    type=click.Choice(BY),
    default=None,
    help="Compare the survival curves of these groups, with a log-rank test.",
)
@click.option(
    "--origin",
    type=click.Choice(ORIGINS),
    default=None,
    help="Where time to first recidivism starts. Default: recidivism.origin in "
    "analysis/indicators.toml (completion).",
)
@click.option(
    "--source",
    type=click.Choice(SOURCES),
    default="any",
    show_default=True,
    help="Whose reports of new violence count as recidivism; any means every source "
    "listed in analysis/indicators.toml.",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default="en",
    show_default=True,
    help="The language of the HTML report's words (headings, table labels, captions, "
    "checkpoint labels). JSON and CSV keep their keys and codes in every language.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to this file (whole, or not at all) instead of standard output.",
)
@click.option(
    "--no-suppress",
    is_flag=True,
    help="Administrators only: show counts below the suppression threshold. The export "
    "is audited as unsuppressed; never pass such a file to evaluators.",
)
@as_option
def report(config_path, fmt, as_of, site, by, origin, source, language, out, no_suppress, as_user):
    """Retention, follow-up, non-violence and survival statistics, with small cells suppressed."""
    from followup.db import transaction
    from followup.operations.report import outcome_report
    from followup.report.build import ReportOptions
    from followup.report.render import render

    ctx = open_context(config_path, need_key=False)  # aggregates only, never sealed data
    options = ReportOptions(
        as_of=as_of,
        site=site,
        by=by,
        origin=origin,
        source=source,
        suppress=not no_suppress,
        format=fmt,
    )
    # The audit line is written in the same transaction: an export that fails to be
    # written is not recorded as made, and one that is made is never unrecorded.
    with transaction(ctx.engine) as session:
        made = outcome_report(session, ctx, principal(session, ctx, as_user), options)
        text = render(made, fmt, language)
        if out is not None:
            _write_whole(out, text)
    if out is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"Wrote the {fmt} report to {out}.", err=True)
    if no_suppress:
        click.echo(
            "Warning: small cells are NOT suppressed in this report; it is for "
            "administrators only and its export has been audited.",
            err=True,
        )


def _write_whole(path: Path, text: str) -> None:
    folder = path.resolve().parent
    if not folder.is_dir():
        raise click.BadParameter(f"folder {folder} does not exist", param_hint="--out")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@click.command()
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "csv", "json"]),
    default="md",
    show_default=True,
    help="Markdown for people, CSV for statistical packages, JSON for programs.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write to this file instead of standard output.",
)
def codebook(config_path, fmt, out_path):
    """Every instrument's items, codes, labels, missing codes and scores."""
    from followup.operations.instruments import codebook as make

    ctx = open_context(config_path, need_schema=False, need_key=False)
    text = make(ctx, fmt)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"Wrote {out_path}")
    else:
        click.echo(text, nl=False)
