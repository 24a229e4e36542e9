"""The codebook: every instrument's items, codes, labels, missing codes and scores —
what an evaluator needs beside a data export. Pure rendering (`followup codebook`).

Three forms of the same content: Markdown for people, CSV (one row per item, option,
band, score and score band) for statistical packages, JSON for programs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from followup.config import LANGUAGES
from followup.instruments import MISSING_CODES, Instrument, Item, label_in

CSV_COLUMNS = (
    "instrument",
    "revision",
    "status",
    "kind",
    "id",
    "code",
    "type",
    "required",
    "value",
    "items",
    "max_missing",
    "override",
    "alert",
    "show_if",
    "counts_as",
    "pair",
    *(f"label_{language}" for language in LANGUAGES),
)


def render(versions: Iterable[Instrument | tuple[Instrument, str]], fmt: str) -> str:
    """`versions`: instruments, or (instrument, status) pairs — "in force", "earlier
    revision", "file not yet applied" (followup.operations.instruments)."""
    pairs = [v if isinstance(v, tuple) else (v, "") for v in versions]
    chosen = sorted(pairs, key=lambda pair: pair[0].id)  # stable: applied order kept
    if fmt == "json":
        books = [_as_json(i) | ({"status": status} if status else {}) for i, status in chosen]
        return json.dumps(books, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _as_csv(chosen)
    return _as_markdown(chosen)


def _as_json(instrument: Instrument) -> dict[str, Any]:
    return {
        "id": instrument.id,
        "revision": instrument.revision,
        "missing_codes": list(MISSING_CODES),
        "score_definitions": {s.id: instrument.score_definition(s.id) for s in instrument.scores},
        **json.loads(instrument.to_json()),
    }


def _labels(label: Any, fallback: str) -> list[str]:
    return [label_in(label, language, fallback) if label else "" for language in LANGUAGES]


def _show_if(item: Item) -> str:
    rule = item.show_if
    if rule is None:
        return ""
    if rule.equals is not None:
        return f"{rule.item} = {rule.equals}"
    if rule.any_of is not None:
        return f"{rule.item} in {'|'.join(rule.any_of)}"
    return f"{rule.item} > {rule.above:g}"


def _as_csv(instruments: list[tuple[Instrument, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n", restval="")
    writer.writeheader()

    def row(ins: Instrument, kind: str, label: Any = None, **cells: Any) -> None:
        texts = dict(zip((f"label_{lang}" for lang in LANGUAGES), _labels(label, ""), strict=True))
        writer.writerow(
            {
                "instrument": ins.id,
                "revision": ins.revision,
                "status": statuses[ins.revision],
                "kind": kind,
                **cells,
                **texts,
            }
        )

    statuses = {ins.revision: status for ins, status in instruments}
    for ins, _ in instruments:
        for item in ins.items:
            row(
                ins,
                "item",
                item.label,
                id=item.id,
                type=item.type,
                required="yes" if item.required else "no",
                value=f"{item.min}..{item.max}" if item.type == "scale" else "",
                show_if=_show_if(item),
                counts_as=item.counts_as or "",
                pair=item.pair or "",
            )
            for code in ("yes", "no") if item.type == "yes_no" else ():
                row(ins, "code", id=item.id, code=code, value="1" if code == "yes" else "0")
            for option in item.options:
                value = "" if option.value is None else f"{option.value:g}"
                row(ins, "option", option.label, id=item.id, code=option.code, value=value)
            for band in item.bands:
                row(ins, "band", band.label, id=item.id, code=band.code, value=f"{band.midpoint:g}")
            for point, label in sorted(item.anchors.items(), key=lambda kv: int(kv[0])):
                row(ins, "anchor", label, id=item.id, code=point, value=point)
        for code in MISSING_CODES:
            row(ins, "missing", code=code)
        for score in ins.scores:
            row(
                ins,
                "score",
                score.label,
                id=score.id,
                type=score.method,
                items=" ".join(score.items),
                max_missing=score.max_missing,
                override="yes" if score.override else "no",
            )
            for band in score.bands:
                row(
                    ins,
                    "score_band",
                    id=score.id,
                    code=band.label,
                    value=f"{band.at_least:g}",
                    alert="yes" if band.label == score.alert_at else "no",
                )
    return out.getvalue()


def _as_markdown(instruments: list[tuple[Instrument, str]]) -> str:
    lines = ["# Codebook", ""]
    lines.append(
        "Every answer may instead be one of the missing codes "
        + ", ".join(f"`{c}`" for c in MISSING_CODES)
        + ": kept apart from each other and never counted as “no”. Items hidden by their "
        "`show_if` are stored as `not_applicable`; items shown and left empty as `not_asked`."
    )
    for ins, status in instruments:
        lines += [
            "",
            f"## {ins.name_in('en')} (`{ins.id}`, revision `{ins.revision}`"
            + (f", {status})" if status else ")"),
            "",
            f"Reference period: {label_in(ins.reference_period, 'en', '')}."
            + (
                " Licensed: structure only, texts from the programme's licence."
                if ins.licensed
                else ""
            ),
            "",
            "| Item | Type | Codes | Asked when | Counts as | Pair | Question (en) |",
            "|---|---|---|---|---|---|---|",
        ]
        for item in ins.items:
            lines.append(
                f"| `{item.id}`{' *' if item.required else ''} | {item.type} | "
                f"{_codes_text(item)} | {_show_if(item)} | {item.counts_as or ''} | "
                f"{item.pair or ''} | {_cell(item.label_in('en') if item.label else '')} |"
            )
        if ins.scores:
            lines += [
                "",
                "| Score | Method | Items | Max missing | Bands |",
                "|---|---|---|---|---|",
            ]
            for score in ins.scores:
                bands = ", ".join(
                    f"{b.label} ≥ {b.at_least:g}{' (alert)' if b.label == score.alert_at else ''}"
                    for b in score.bands
                )
                if score.override:
                    bands += "; a professional may override the band, with a reason"
                lines.append(
                    f"| `{score.id}` | {score.method} | {', '.join(score.items)} | "
                    f"{score.max_missing} | {bands} |"
                )
        lines.append("")
        lines.append("`*` required.")
    return "\n".join(lines) + "\n"


def _codes_text(item: Item) -> str:
    if item.type == "scale":
        anchors = "; ".join(
            f"{p} {label_in(lbl, 'en', '')}" for p, lbl in sorted(item.anchors.items())
        )
        return f"{item.min}–{item.max}" + (f" ({anchors})" if anchors else "")
    if item.type == "frequency":
        return "; ".join(f"`{b.code}` ({b.midpoint:g})" for b in item.bands)
    if item.type == "choice":
        return "; ".join(
            f"`{o.code}`" + (f" ({o.value:g})" if o.value is not None else "") for o in item.options
        )
    if item.type == "yes_no":
        return "`yes`; `no`"
    return {"number": "a number", "date": "YYYY-MM-DD", "text": "sealed text"}.get(item.type, "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
