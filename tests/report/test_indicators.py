"""analysis/indicators.toml: validated like config.toml, documented key by key, and the
report's option errors: one line naming the file, the key or the option, and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from followup.report.indicators import Indicators, load_indicators
from tests.test_config_docs import key_paths

from .conftest import report_json, write

REPO = Path(__file__).resolve().parents[2]
DOCS = (REPO / "docs" / "configuration.md").read_text()


def test_the_shipped_indicators_file_is_the_documented_defaults():
    assert load_indicators(REPO / "analysis" / "indicators.toml") == Indicators()


@pytest.mark.parametrize("key", key_paths(Indicators))
def test_every_indicator_key_is_documented(key):
    section = DOCS.split("## Indicator definitions", 1)[1]
    assert f"`{key}`" in section, f"{key} is missing from docs/configuration.md"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[non_violence]\ntype = ["physical"]\n',
            '{file}: non_violence.type: unknown key. Hint: did you mean "types"?',
        ),
        (
            '[non_violence]\ntypes = ["hitting"]\n',
            "{file}: non_violence.types[0]: Input should be 'physical', 'sexual', 'psychological', "
            "'economic', 'coercive' or 'stalking' (got 'hitting'). Hint: \"non-violent\" means none of "
            'these reported since the last contact, e.g. ["physical", "sexual"]; types: physical, '
            "sexual, psychological, economic, coercive, stalking",
        ),
        (
            "[non_violence]\ntypes = []\n",
            "{file}: non_violence.types: List should have at least 1 item after validation, not 0. "
            'Hint: "non-violent" means none of these reported since the last contact, e.g. '
            '["physical", "sexual"]; types: physical, sexual, psychological, economic, coercive, stalking',
        ),
        (
            '[non_violence]\nalongside = ["physical"]\n',
            "{file}: (top level): non_violence.alongside repeats 'physical', which is already in "
            "non_violence.types; list each type in one of the two. Hint: see docs/configuration.md",
        ),
        (
            '[recidivism]\nsources = ["neighbour"]\n',
            "{file}: recidivism.sources[0]: Input should be 'partner', 'participant', 'police', "
            "'prosecutor' or 'social_services' (got 'neighbour'). Hint: the sources `--source any` "
            "counts; any of partner, participant, police, prosecutor, social_services",
        ),
        (
            "[recidivism]\ndays = [0, 90]\n",
            "{file}: recidivism.days: days are counted after the origin, so each is 1 or more. Hint: "
            "days after the origin at which survival is also read, e.g. [90, 180, 365]",
        ),
        (
            "[retention]\ngrace_days = -1\n",
            "{file}: retention.grace_days: Input should be greater than or equal to 0 (got -1). Hint: "
            "days after the planned programme end before a man who has not completed counts in the "
            "completion rate",
        ),
        (
            "completion_target = 0.7\n",
            "{file}: completion_target: not an indicator setting. Hint: set it in config.toml "
            "[analysis] completion_target, the one place it is read from",
        ),
        (
            "suppression_threshold = 3\n",
            "{file}: suppression_threshold: not an indicator setting. Hint: set it in config.toml "
            "[analysis] suppression_threshold, the one place it is read from",
        ),
        ("confidence = \n", "{file}: not valid TOML: Invalid value (at line 1, column 14)"),
    ],
)
def test_a_wrong_indicators_file_is_refused_with_file_key_and_hint(deployment, text, message):
    path = write(deployment.folder / "analysis" / "indicators.toml", text)
    result = deployment.run("report")
    assert result.exit_code == 1
    assert result.out == ""
    assert result.err == f"Error: {message.format(file=path)}\n"


def test_an_indicators_file_next_to_config_toml_is_used_and_printed(deployment):
    path = write(
        deployment.folder / "analysis" / "indicators.toml",
        '[non_violence]\ntypes = ["physical", "sexual", "coercive"]\nalongside = []\n'
        '[recidivism]\norigin = "admission"\n',
    )
    report = report_json(deployment)
    definitions = report["definitions"]
    assert definitions["indicators_file"] == str(path)
    assert definitions["non_violent"]["types"] == ["physical", "sexual", "coercive"]
    assert "no physical, sexual or coercive violence" in definitions["non_violent"]["text"]
    assert report["survival"]["recidivism"]["origin"] == "admission"


def test_without_an_indicators_file_the_defaults_are_used_and_said(deployment):
    definitions = report_json(deployment)["definitions"]
    assert definitions["indicators_file"].startswith("defaults")
    assert definitions["non_violent"]["types"] == ["physical", "sexual"]
    assert definitions["completion_target"] == 0.8 and definitions["suppression_threshold"] == 5


def test_an_indicators_path_set_in_config_toml_must_exist(make_deployment):
    deployment = make_deployment(extra='[analysis]\nindicators = "defs/indicators.toml"\n')
    result = deployment.run("report")
    assert result.exit_code == 1
    assert result.err == (
        f"Error: {deployment.path}: analysis.indicators: {deployment.folder / 'defs' / 'indicators.toml'} "
        "does not exist. Hint: fix the path, or remove the key to use the shipped defaults\n"
    )


def test_target_and_threshold_come_from_config_toml(make_deployment):
    deployment = make_deployment(
        extra="[analysis]\ncompletion_target = 0.7\nsuppression_threshold = 10\n"
    )
    report = report_json(deployment)
    assert report["retention"]["target"] == 0.7
    assert report["suppression"]["applied"] is True
    assert report["suppression"]["threshold"] == 10


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (
            ("--by", "completion"),
            1,
            "Error: --by completion compares men who completed with men who left early, and the "
            "latter have no completion date to count from. Hint: add --origin end_of_participation "
            "(or admission, or enrolment)",
        ),
        (
            ("--site", "XX"),
            1,
            "Error: unknown site 'XX'. Hint: one of BG, NS (config.toml [sites])",
        ),
        (
            ("--as-of", "2026-12-01"),
            1,
            "Error: --as-of 2026-12-01 is after today (2026-11-24): follow-ups whose window has not "
            "closed yet would count as missed. Hint: leave --as-of out for today",
        ),
        (
            ("--as-of", "2026-02-30"),
            2,
            "Error: Invalid value for '--as-of': expected a date as YYYY-MM-DD, got '2026-02-30' "
            "(see `followup report --help`)",
        ),
        (
            ("--format", "pdf"),
            2,
            "Error: Invalid value for '--format': 'pdf' is not one of 'text', 'json', 'html', 'csv'. "
            "(see `followup report --help`)",
        ),
        (
            ("--by", "facilitator"),
            2,
            "Error: Invalid value for '--by': 'facilitator' is not one of 'site', 'referral_source', "
            "'completion'. (see `followup report --help`)",
        ),
    ],
)
def test_report_options_that_cannot_be_honoured_are_refused_in_one_line(
    deployment, args, status, message
):
    result = deployment.run("report", *args)
    assert (result.exit_code, result.err) == (status, message + "\n")
    assert result.out == ""


def test_an_empty_deployment_reports_nothing_without_failing(deployment):
    report = report_json(deployment, "--no-suppress", "--by", "site")
    assert report["cohort"]["enrolled"] == 0
    assert report["retention"]["completion_rate"] is None
    assert report["survival"]["recidivism"]["overall"]["curve"] == []
    assert report["survival"]["recidivism"]["logrank"] is None
    json.dumps(report, allow_nan=False)
    assert deployment.run("report", "--format", "html").exit_code == 0
    assert deployment.run("report").exit_code == 0
    assert deployment.run("report", "--format", "csv").exit_code == 0


def test_registering_the_report_command_keeps_numpy_out_of_every_other_command():
    import subprocess
    import sys

    code = (
        "import sys, followup.cli; "
        "print(sorted(m for m in ('numpy', 'scipy', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_command_line_offers_exactly_the_options_the_report_accepts():
    from followup.cli import report as cli
    from followup.report import build
    from followup.report.indicators import ORIGINS

    assert cli.FORMATS == build.FORMATS
    assert cli.BY == build.BY_CHOICES
    assert cli.SOURCES == build.SOURCE_CHOICES
    assert cli.ORIGINS == ORIGINS
