"""The operations floor: every read and write a person can ask for, under both edges.

The CLI (followup.cli) and the web routes (followup.web.routes) parse what they are
given, build the operation's inputs — the context (config, engine, now), a session, the
principal (followup.operations.policy.Principal: who asks, with which roles at which
site) — call one operation and render its answer. Each operation enforces the policy
itself and writes its own audit line, so a CLI command and a web page cannot disagree.

- caseload   what is due: `followup due`, My follow-ups / the site list, the calendar feed
- people     a participant's timeline, a partner's record (open, reveal, contact rules),
             search
- followups  one follow-up; record an interview or a missed follow-up on it
- attempts   a contact attempt on a follow-up (her safe-contact plan enforced)
- records    enrol, record status / interview / recidivism / check / consent / missed
- casework   the browser's casework forms: their choices, add / edit a partner, and
             which follow-ups a status change moved (the writes: records, enrol)
- alerts     safety alerts: list, open, acknowledge
- schedules  protocol changes: plan, apply
- report     the outcome report, cut to the sites and suppression this person may have
- accounts   web accounts, passwords, invites, my account, who a command acts as
- auditlog   reading the audit trail
- policy     who may see and do what (Principal, the rules, their SQL scopes)
- acting     the context an operation records with (this person as the actor)
"""
