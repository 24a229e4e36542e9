"""What every command shares: option types, --config, --format, --as, opening the
context after the start-up checks, free text, tables. Imports only click and the
dependency-free parts of followup, so `--help` stays quick."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import wraps
from itertools import islice

import click

from followup.values import MAX_NOTES, limit_length, parse_date, parse_yes_no, refuse_control


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class YesNoType(click.ParamType):
    name = "yes|no"

    def convert(self, value, param, ctx):
        try:
            return parse_yes_no(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = DateType()
YES_NO = YesNoType()


def config_option(func: Callable) -> Callable:
    """--config on every command (also read from $FOLLOWUP_CONFIG)."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Path of config.toml. Default: $FOLLOWUP_CONFIG, else ./config.toml.",
    )
    @wraps(func)
    def wrapper(*args, config_path=None, **kwargs):
        parent = click.get_current_context().find_root().params.get("config_path")
        return func(*args, config_path=config_path or parent, **kwargs)

    return wrapper


def format_option(help: str = "Output format.") -> Callable:
    """--format text|json, the same on every command that can print json."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help,
    )


def open_context(
    config_path: str | None,
    *,
    need_schema: bool = True,
    need_key: bool = True,
    private_file: bool = False,
):
    """The context of a command, after the start-up checks every command shares
    (followup.context.startup_checks): the database is reachable and has its tables, and
    when partner data exists the key opens it (`need_key=False` only for commands that
    never read sealed data); `private_file` also refuses a database others can read."""
    from followup.context import Context, startup_checks

    ctx = Context.open(config_path)
    startup_checks(ctx, schema=need_schema, key=need_key, private_file=private_file)
    return ctx


def free_text(text: str | None, option: str) -> str | None:
    """A --notes value (or what stdin gave for it): line breaks allowed, a length limit."""
    if text is None:
        return None
    try:
        return limit_length(refuse_control(text, option, allow="\t\n\r"), option, MAX_NOTES)
    except ValueError as problem:
        raise click.BadParameter(str(problem), param_hint=option) from None


def table(header, rows, *, show_header: bool = True, widths: list[int] | None = None) -> list[int]:
    """Print rows aligned in columns; returns the widths used, so a long table printed a
    block at a time (`widths` from the block before) keeps its columns, widening them
    only when a wider value comes."""
    widths = [
        max([len(str(r[n])) for r in [header, *rows]] + ([widths[n]] if widths else []))
        for n in range(len(header))
    ]
    for r in [header, *rows] if show_header else rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return widths


TABLE_BLOCK = 1000  # rows a streamed table holds at once


def blocks(items: Iterable, size: int) -> Iterator[list]:
    """`items` in lists of at most `size`, read lazily."""
    iterator = iter(items)
    while block := list(islice(iterator, size)):
        yield block


def echo_json_list(items: Iterable) -> None:
    """A JSON list printed item by item as the items come, byte for byte what
    `json.dumps(list(items), indent=2)` prints, without holding the list."""
    first = True
    for item in items:
        text = json.dumps(item, indent=2).replace("\n", "\n  ")
        click.echo(("[\n  " if first else ",\n  ") + text, nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def as_option(func: Callable) -> Callable:
    """--as USERNAME: act as that web account (its roles and sites apply; audited as
    `cli:LOGIN as USERNAME`). Without it the command acts as the operator: an
    administrator of every site, audited as `cli:LOGIN`."""
    return click.option(
        "--as",
        "as_user",
        default=None,
        metavar="USERNAME",
        help="Act as this web account (its roles and sites apply). "
        "Default: the operator, as administrator.",
    )(func)


def principal(session, ctx, as_user: str | None):
    """Who the command acts as (followup.operations.policy.Principal)."""
    from followup.operations.accounts import principal_as
    from followup.operations.policy import operator

    if as_user is None:
        return operator(ctx.actor.removeprefix("cli:"))
    return principal_as(session, ctx, as_user, via=f"{ctx.actor} as {as_user.strip().lower()}")


def in_transaction(config_path, as_user: str | None, operation):
    """Open the context, build the principal and run `operation(session, ctx, p)` in one
    transaction."""
    from followup.db import transaction

    ctx = open_context(config_path)
    with transaction(ctx.engine) as session:
        return operation(session, ctx, principal(session, ctx, as_user))
