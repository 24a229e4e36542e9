"""A deployment whose protocol asks instruments: its own copy of the shipped schedules,
with undp-serbia's intake assessment (his) asking `all-types` — a test instrument with
every item type, a skip rule, a required item, a text item and a score with override and
alert band — and her first contact asking the shipped `risk-checklist`."""

from __future__ import annotations

import shutil
from pathlib import Path

SCHEDULES = Path(__file__).resolve().parents[2] / "schedules"

ALL_TYPES = """\
id = "all-types"
name = { en = "Every item type", sr-Latn = "Svaka vrsta pitanja" }
reference_period = { en = "past 3 months", sr-Latn = "poslednja 3 meseca" }

[[items]]
id = "hit"
type = "yes_no"
required = true
counts_as = "physical"
label = { en = "Did he hit anyone?", sr-Latn = "Da li je nekoga udario?" }

[[items]]
id = "injured"
type = "yes_no"
show_if = { item = "hit", equals = "yes" }
label = { en = "Was anyone injured?", sr-Latn = "Da li je neko povređen?" }

[[items]]
id = "threats"
type = "frequency"
counts_as = "psychological"
label = "How often did he threaten anyone?"

[[items.bands]]
code = "none"
label = "Never"
midpoint = 0

[[items.bands]]
code = "few"
label = "1 to 5 times"
midpoint = 3

[[items.bands]]
code = "many"
label = "More than 5 times"
midpoint = 8

[[items]]
id = "where"
type = "choice"
label = "Where did it happen?"

[[items.options]]
code = "home"
label = "At home"
value = 1

[[items.options]]
code = "street"
label = "In the street"
value = 2

[[items]]
id = "felt_safety"
type = "scale"
min = 1
max = 5
label = "How safe does she feel?"
anchors = { "1" = "very unsafe", "5" = "very safe" }

[[items]]
id = "calls"
type = "number"
max = 100
label = "How many calls did he make to her?"

[[items]]
id = "last_seen"
type = "date"
label = "When did he last see her?"

[[items]]
id = "in_his_words"
type = "text"
label = "In his words"

[[scores]]
id = "danger"
label = "Danger"
method = "sum"
items = ["hit", "threats", "calls"]
max_missing = 1
override = true
alert_at = "high"

[[scores.bands]]
at_least = 0
label = "low"

[[scores.bands]]
at_least = 5
label = "high"
"""


def instrument_schedules(folder: Path) -> Path:
    """Copy the shipped schedules into `folder`, name the instruments, add all-types."""
    shutil.copytree(SCHEDULES, folder)
    protocol = folder / "undp-serbia.toml"
    text = protocol.read_text()
    for name, instrument in (
        ("intake_assessment", "all-types"),
        ("partner_first_contact", "risk-checklist"),
    ):
        marker = f'name = "{name}"\n'
        assert marker in text
        text = text.replace(marker, f'{marker}instrument = "{instrument}"\n', 1)
    protocol.write_text(text)
    (folder / "instruments" / "all-types.toml").write_text(ALL_TYPES)
    return folder


# Every item answered, no skip: what a full interview of `all-types` gives.
FULL = {
    "hit": "yes",
    "injured": "no",
    "threats": "few",
    "where": "home",
    "felt_safety": "4",
    "calls": "12",
    "last_seen": "2026-01-02",
    "in_his_words": "She should not have called the police",
}

RISK_ITEMS = [
    *("injury_now", "very_afraid", "isolated", "separation", "pregnant_baby"),
    *("child_contact_conflict", "stalking", "sexual_abuse", "threat_to_kill", "choking"),
    *("jealous_control", "weapon", "threat_children", "escalating", "suicide_threat"),
    *("substance_misuse", "money_trouble", "breached_orders", "violence_record"),
    "harmed_animals",
]


def risk_answers(yes: int) -> dict[str, str]:
    """The risk checklist with the first `yes` items yes and the rest no."""
    return {item: "yes" if n < yes else "no" for n, item in enumerate(RISK_ITEMS)}
