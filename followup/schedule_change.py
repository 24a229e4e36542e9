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

from sqlalchemy.orm import Session

from followup.audit import audit
from followup.context import Context
from followup.replan import PersonPlan, iter_replan

# (site code, the staff pk of the man's facilitator) -> may this viewer see her rows?
MaySeeHer = Callable[[str, int | None], bool]


def nobody(site: str, facilitator: int | None) -> bool:
    """The command line has no signed-in person: her rows are counts there."""
    return False


def _no_changes() -> dict[str, int]:
    return {"move": 0, "add": 0, "cancel": 0}


@dataclass
class ChangePlan:
    applied: bool
    people: list[dict] = field(default_factory=list)
    totals: dict[str, int] = field(
        default_factory=lambda: {"people": 0, "move": 0, "add": 0, "cancel": 0}
    )
    revisions: dict[str, str] = field(default_factory=dict)  # protocol id -> current revision
    # Partners' follow-ups this viewer may not see, by action: counted in totals, not listed.
    partner_changes_hidden: dict[str, int] = field(default_factory=_no_changes)

    def to_json(self) -> dict:
        return {
            "applied": self.applied,
            "revisions": self.revisions,
            "totals": self.totals,
            "partner_changes_hidden": self.partner_changes_hidden,
            "people": self.people,
        }

    @property
    def hidden(self) -> int:
        return sum(self.partner_changes_hidden.values())

    def totals_text(self) -> str:
        t = self.totals
        return (
            f"{t['people']} people on the new revision; {t['move']} follow-up(s) moved, "
            f"{t['add']} added, {t['cancel']} cancelled"
        )


def _describe(person: PersonPlan) -> dict:
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

        for person in iter_replan(
            session,
            None,
            protocol_for,
            reason="protocol change",
            now=ctx.now(),
            apply=apply,
            new_revision=current.get,
        ):
            described = _describe(person)
            moved = person.revision_after != person.revision_before
            if not described["changes"] and not moved:
                continue
            result.totals["people"] += 1
            for change in described["changes"]:
                result.totals[change["action"]] += 1
            if _cut_to_viewer(described, person, may_see_her, result, shown) or moved:
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


def render_text(plan: ChangePlan) -> str:
    if not plan.people and not plan.hidden:
        return "No pending follow-up would change."
    lines = []
    for person in plan.people:
        lines.append(
            f"{person['case_id']} ({person['protocol']} {person['revision_from']} -> {person['revision_to']})"
        )
        for c in person["changes"]:
            who = c["subject"] if c["partner_id"] is None else f"partner {c['partner_id']}"
            name = f"{c['checkpoint']}" + (f" #{c['occurrence']}" if c["occurrence"] > 1 else "")
            if c["action"] == "move":
                lines.append(f"  move    {who:<22} {name:<24} {c['was_due_on']} -> {c['due_on']}")
            elif c["action"] == "add":
                lines.append(f"  add     {who:<22} {name:<24} due {c['due_on']}")
            else:
                lines.append(f"  cancel  {who:<22} {name:<24} was due {c['was_due_on']}")
    if plan.hidden:
        h = plan.partner_changes_hidden
        lines.append(
            f"Partners' follow-ups (not listed here: only her partner-support worker sees them): "
            f"{h['move']} moved, {h['add']} added, {h['cancel']} cancelled."
        )
    lines.append(f"Would change: {plan.totals_text()}. Run `followup schedule apply` to do it.")
    return "\n".join(lines)
