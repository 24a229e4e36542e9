"""`schedule plan` / `schedule apply`: what a change to the protocol files does.

Both run the same re-planning against the current files; plan reads only, apply writes
everything in one transaction and moves each enrolment to the new revision. Completed
follow-ups are never touched (see followup.schedule.reconcile).

A partner's pending follow-ups are hers: that they exist says she has not withdrawn
consent. The plan names them only to a viewer who may see her (`may_see_her`, from
followup.operations.policy); to anyone else they are counts (`partner_changes_hidden`), and a
man whose only changes are hers is not listed. Every plan is audited (`schedule_plan`,
with the partner ids shown), like every apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import instrument_store
from followup.audit import audit
from followup.context import Context
from followup.models import Participant
from followup.protocol import Checkpoint, Protocol
from followup.replan import PersonPlan, iter_replan

# (site code, the staff pk of the man's facilitator) -> may this viewer see her rows?
MaySeeHer = Callable[[str, int | None], bool]


def nobody(site: str, facilitator: int | None) -> bool:
    """The command line has no signed-in person: her rows are counts there."""
    return False


def _no_changes() -> dict[str, int]:
    return {"move": 0, "add": 0, "cancel": 0}


# What a checkpoint is compared on: everything that moves a date or decides who gets one.
COMPARED = (
    "anchor",
    "offset",
    "window_before_days",
    "window_after_days",
    "repeat_every",
    "on_dropout",
    "needs_consent",
)
PROGRAMME = ("admission_after", "start_after", "length")


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _checkpoint_json(change: str, checkpoint: Checkpoint, fields: list[dict]) -> dict:
    return {
        "change": change,
        "subject": checkpoint.subject,
        "checkpoint": checkpoint.name,
        "label": checkpoint.title,
        "fields": fields,
    }


def diff_protocols(old: Protocol, new: Protocol) -> dict:
    """What changed between two revisions of a protocol: the expected programme gaps, and
    per checkpoint (by name and subject) added, removed, or changed with each compared
    field's before and after. Labels are the new file's (the old one's for a removed
    checkpoint); a change of label alone moves nothing and is not listed."""
    programme = [
        {"field": name, "before": _shown(a), "after": _shown(b)}
        for name in PROGRAMME
        if (a := getattr(old.programme, name)) != (b := getattr(new.programme, name))
    ]
    checkpoints = []
    before = {(c.name, c.subject): c for c in old.checkpoints}
    after = {(c.name, c.subject): c for c in new.checkpoints}
    for key, checkpoint in after.items():
        was = before.get(key)
        if was is None:
            checkpoints.append(_checkpoint_json("added", checkpoint, []))
            continue
        fields = [
            {"field": name, "before": _shown(a), "after": _shown(b)}
            for name in COMPARED
            if (a := getattr(was, name)) != (b := getattr(checkpoint, name))
        ]
        if fields:
            checkpoints.append(_checkpoint_json("changed", checkpoint, fields))
    for key, checkpoint in before.items():
        if key not in after:
            checkpoints.append(_checkpoint_json("removed", checkpoint, []))
    return {"programme": programme, "checkpoints": checkpoints}


def _new_totals() -> dict[str, int]:
    # people: enrolments that move to the new revision (or whose follow-ups change);
    # people_changed: those of them with a follow-up moved, added or cancelled (hers
    # included, as counts); followups: how many follow-ups, move + add + cancel.
    return {"people": 0, "people_changed": 0, "followups": 0, "move": 0, "add": 0, "cancel": 0}


@dataclass
class ChangePlan:
    applied: bool
    people: list[dict] = field(default_factory=list)  # people with changes this viewer sees
    totals: dict[str, int] = field(default_factory=_new_totals)
    # Per protocol and applied revision: what the file changes (diff_protocols), and how
    # many enrolments are on that revision.
    protocols: list[dict] = field(default_factory=list)
    revisions: dict[str, str] = field(default_factory=dict)  # protocol id -> current revision
    # Instrument files that differ from the revision in force (followup.instrument_store).
    instruments: list[dict] = field(default_factory=list)
    # Partners' follow-ups this viewer may not see, by action: counted in totals, not listed.
    partner_changes_hidden: dict[str, int] = field(default_factory=_no_changes)

    def to_json(self) -> dict:
        return {
            "applied": self.applied,
            "revisions": self.revisions,
            "totals": self.totals,
            "partner_changes_hidden": self.partner_changes_hidden,
            "protocol_changes": self.protocols,
            "instrument_changes": self.instruments,
            "people": self.people,
        }

    @property
    def hidden(self) -> int:
        return sum(self.partner_changes_hidden.values())

    def totals_text(self) -> str:
        t = self.totals
        return (
            f"{t['people']} people on the new revision, {t['people_changed']} of them with "
            f"follow-ups that change; {t['followups']} follow-up(s): {t['move']} moved, "
            f"{t['add']} added, {t['cancel']} cancelled"
        )


def _describe(person: PersonPlan, label: Callable[[str, str], str]) -> dict:
    def who(partner_key):
        return (
            ("participant", None)
            if partner_key is None
            else ("partner", person.partner_ids.get(partner_key))
        )

    items = []
    for row, item in person.changes.move:
        subject, partner = who(row.partner_key)
        items.append(
            {
                "action": "move",
                "subject": subject,
                "partner_id": partner,
                "checkpoint": row.checkpoint,
                "label": label(row.checkpoint, subject),
                "occurrence": row.occurrence,
                "due_on": item.due_on.isoformat(),
                "was_due_on": row.due_on.isoformat(),
                "window_opens_on": item.window_opens_on.isoformat(),
                "window_closes_on": item.window_closes_on.isoformat(),
            }
        )
    for item in [*person.changes.add, *(i for _, i in person.changes.reinstate)]:
        subject, partner = who(item.partner_key)
        items.append(
            {
                "action": "add",
                "subject": subject,
                "partner_id": partner,
                "checkpoint": item.checkpoint,
                "label": label(item.checkpoint, subject),
                "occurrence": item.occurrence,
                "due_on": item.due_on.isoformat(),
                "window_opens_on": item.window_opens_on.isoformat(),
                "window_closes_on": item.window_closes_on.isoformat(),
            }
        )
    for row in person.changes.cancel:
        subject, partner = who(row.partner_key)
        items.append(
            {
                "action": "cancel",
                "subject": subject,
                "partner_id": partner,
                "checkpoint": row.checkpoint,
                "label": label(row.checkpoint, subject),
                "occurrence": row.occurrence,
                "was_due_on": row.due_on.isoformat(),
            }
        )
    return {
        "case_id": person.case_id,
        "protocol": person.protocol_id,
        "revision_from": person.revision_before,
        "revision_to": person.revision_after,
        "changes": items,
    }


def plan_change(ctx: Context, *, apply: bool, may_see_her: MaySeeHer = nobody) -> ChangePlan:
    result = ChangePlan(applied=apply)
    shown: set[str] = set()
    current = {pid: p.revision for pid, p in ctx.protocols.items()}
    result.revisions = current
    with Session(ctx.engine, expire_on_commit=False) as session:
        ctx.sync_sites(session)
        ctx.register_protocols(session)

        def protocol_for(protocol_id: str, revision: str):
            # Enrolments on a protocol no longer active keep the rules they had.
            if protocol_id in ctx.protocols:
                return ctx.protocols[protocol_id]
            return ctx.protocol_at(session, revision)

        result.protocols = _protocol_diffs(session, ctx)
        if apply:
            result.instruments = instrument_store.apply_changes(session, ctx.instruments, ctx.now())
        else:
            result.instruments = instrument_store.pending_changes(session, ctx.instruments)

        def label_for(person: PersonPlan) -> Callable[[str, str], str]:
            versions = [protocol_for(person.protocol_id, person.revision_after)]
            versions.append(ctx.protocol_at(session, person.revision_before))

            def label(name: str, subject: str) -> str:
                for version in versions:  # a removed checkpoint: its old label
                    if (found := version.checkpoint(name, subject)) is not None:
                        return found.title
                return name.replace("_", " ")

            return label

        for person in iter_replan(
            session,
            None,
            protocol_for,
            reason="protocol change",
            now=ctx.now(),
            apply=apply,
            new_revision=current.get,
        ):
            described = _describe(person, label_for(person))
            moved = person.revision_after != person.revision_before
            if not described["changes"] and not moved:
                continue
            result.totals["people"] += 1
            if described["changes"]:
                result.totals["people_changed"] += 1
            for change in described["changes"]:
                result.totals[change["action"]] += 1
                result.totals["followups"] += 1
            # Listed only with a change this viewer may see: a man whose only changes are
            # hers is a count, and one who merely moves revision is in `people` alone.
            if _cut_to_viewer(described, person, may_see_her, result, shown):
                result.people.append(described)
        hidden = result.partner_changes_hidden
        if apply:
            audit(
                session,
                ctx.actor,
                "schedule_apply",
                None,
                None,
                **result.totals,
                revisions=current,
                instruments={c["instrument"]: c["revision_to"] for c in result.instruments},
                partners=sorted(shown),
                partner_changes_hidden=hidden,
            )
            session.commit()
        else:
            session.rollback()  # plan never writes, not even the new revision rows...
            audit(  # ...but who looked, and at whose follow-ups, is kept
                session,
                ctx.actor,
                "schedule_plan",
                None,
                None,
                **result.totals,
                revisions=current,
                partners=sorted(shown),
                partner_changes_hidden=hidden,
            )
            session.commit()
    return result


def _protocol_diffs(session: Session, ctx: Context) -> list[dict]:
    """Each active protocol against every older revision people are still enrolled on."""
    enrolled = session.execute(
        sa.select(Participant.protocol_id, Participant.protocol_revision, sa.func.count())
        .group_by(Participant.protocol_id, Participant.protocol_revision)
        .order_by(Participant.protocol_id, Participant.protocol_revision)
    ).all()
    diffs = []
    for protocol_id, revision, people in enrolled:
        current = ctx.protocols.get(protocol_id)
        if current is None or revision == current.revision:
            continue
        diffs.append(
            {
                "protocol": protocol_id,
                "name": current.name,
                "revision_from": revision,
                "revision_to": current.revision,
                "people": people,
                **diff_protocols(ctx.protocol_at(session, revision), current),
            }
        )
    return diffs


def _cut_to_viewer(
    described: dict, person: PersonPlan, may_see_her: MaySeeHer, result: ChangePlan, shown: set
) -> bool:
    """Leave out her rows unless this viewer may see her (counting them instead); say
    whether anything is left to list."""
    changes = described["changes"]
    if may_see_her(person.site_code, person.facilitator_id):
        shown.update(c["partner_id"] for c in changes if c["partner_id"] is not None)
        return bool(changes)
    for change in changes:
        if change["subject"] == "partner":
            result.partner_changes_hidden[change["action"]] += 1
    described["changes"] = [c for c in changes if c["subject"] != "partner"]
    return bool(described["changes"])


def render_diff(plan: ChangePlan) -> list[str]:
    """The protocol files against the revisions people are on, checkpoint by checkpoint."""
    lines = []
    for diff in plan.protocols:
        lines.append(
            f"Protocol {diff['protocol']}: {diff['revision_from']} -> {diff['revision_to']} "
            f"({diff['people']} people on {diff['revision_from']})"
        )
        for change in diff["programme"]:
            lines.append(
                f"  programme  {change['field'].replace('_', ' ')}: "
                f"{change['before']} -> {change['after']}"
            )
        for c in diff["checkpoints"]:
            what = f"{c['label']} ({c['subject']}, {c['checkpoint']})"
            if c["change"] != "changed":
                lines.append(f"  {c['change']:<9}  {what}")
                continue
            lines.append(f"  changed    {what}")
            for f in c["fields"]:
                lines.append(
                    f"             {f['field'].replace('_', ' ')}: {f['before'] or '-'} -> "
                    f"{f['after'] or '-'}"
                )
        if not diff["programme"] and not diff["checkpoints"]:
            lines.append("  (only what no date depends on)")
    return lines


def render_instruments(plan: ChangePlan) -> list[str]:
    lines = []
    for change in plan.instruments:
        was = change["revision_from"] or "not yet in use"
        verb = "applied" if plan.applied else "would apply"
        line = f"Instrument {change['instrument']}: {was} -> {change['revision_to']} ({verb})"
        details = []
        if change["items_added"]:
            details.append(f"items added: {', '.join(change['items_added'])}")
        if change["items_removed"]:
            details.append(f"items removed: {', '.join(change['items_removed'])}")
        if change["scores_redefined"]:
            details.append(
                f"scores redefined (not pooled with earlier answers): "
                f"{', '.join(change['scores_redefined'])}"
            )
        lines.append(line + (f"; {'; '.join(details)}" if details else ""))
    return lines


def render_text(plan: ChangePlan) -> str:
    lines = render_diff(plan) + render_instruments(plan)
    if not plan.people and not plan.hidden and not plan.totals["people"]:
        return "\n".join([*lines, "No pending follow-up would change."])
    for person in plan.people:
        lines.append(
            f"{person['case_id']} ({person['protocol']} {person['revision_from']} -> {person['revision_to']})"
        )
        for c in person["changes"]:
            who = c["subject"] if c["partner_id"] is None else f"partner {c['partner_id']}"
            name = f"{c['label']}" + (f" #{c['occurrence']}" if c["occurrence"] > 1 else "")
            if c["action"] == "move":
                lines.append(f"  move    {who:<22} {name:<32} {c['was_due_on']} -> {c['due_on']}")
            elif c["action"] == "add":
                lines.append(f"  add     {who:<22} {name:<32} due {c['due_on']}")
            else:
                lines.append(f"  cancel  {who:<22} {name:<32} was due {c['was_due_on']}")
    if plan.hidden:
        h = plan.partner_changes_hidden
        lines.append(
            f"Partners' follow-ups (not listed here: only her partner-support worker sees them): "
            f"{h['move']} moved, {h['add']} added, {h['cancel']} cancelled."
        )
    lines.append(f"Would change: {plan.totals_text()}. Run `followup schedule apply` to do it.")
    return "\n".join(lines)
