"""config.toml: unknown keys refused; every error names the file, key path, expectation and a hint."""

from __future__ import annotations

import pytest

from followup import config
from followup.errors import ConfigError

MINIMAL = """
[sites.BG]
name = "Centre for Social Work Belgrade"
timezone = "Europe/Belgrade"
language = "sr-Latn"
"""


def load(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return config.load(path), path


def problems(tmp_path, text) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        config.load(path)
    return str(error.value).replace(str(path), "config.toml")


def test_a_minimal_config_gets_sensible_defaults(tmp_path):
    cfg, path = load(tmp_path, MINIMAL)
    assert cfg.database_url == f"sqlite:///{tmp_path / 'followup.db'}"  # relative to the file
    assert cfg.reminders.lead_days == [7, 0]
    assert cfg.channels.default == "console"
    assert cfg.analysis.suppression_threshold == 5
    assert cfg.protocols.default_id == "undp-serbia"


def test_the_shipped_config_is_valid():
    from pathlib import Path

    cfg = config.load(Path(__file__).resolve().parents[1] / "config.toml")
    assert set(cfg.sites) == {"BG", "NS", "PRE"}


def test_an_unknown_key_is_refused_with_the_nearest_valid_name(tmp_path):
    text = MINIMAL + "[reminders]\nlead_day = [3]\n"
    assert problems(tmp_path, text) == (
        'config.toml: reminders.lead_day: unknown key. Hint: did you mean "lead_days"?'
    )


def test_an_unknown_section_is_refused(tmp_path):
    assert problems(tmp_path, MINIMAL + "[databse]\nurl = 'x'\n") == (
        'config.toml: databse: unknown key. Hint: did you mean "database"?'
    )


def test_a_bad_timezone_names_the_site_and_what_is_expected(tmp_path):
    assert problems(tmp_path, MINIMAL.replace("Europe/Belgrade", "Belgrade")) == (
        "config.toml: sites.BG.timezone: not an IANA time zone (got 'Belgrade'). "
        'Hint: an IANA time zone such as "Europe/Belgrade"'
    )


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    text = MINIMAL.replace('"sr-Latn"', '"sr"') + '[reminders]\ndigest_time = "25:00"\n'
    lines = problems(tmp_path, text).splitlines()
    assert (
        lines[0]
        == "config.toml: sites.BG.language: unsupported language (got 'sr'). Hint: one of en, sr-Latn, sq"
    )
    assert lines[1].startswith("config.toml: reminders.digest_time: ")
    assert lines[1].endswith('Hint: local time of each staff member\'s daily digest, "HH:MM"')


def test_a_site_is_required(tmp_path):
    assert problems(tmp_path, "") == (
        "config.toml: sites: required key is missing. Hint: one [sites.CODE] table per centre, e.g. [sites.BG]"
    )


def test_the_default_protocol_must_be_active(tmp_path):
    text = MINIMAL + '[protocols]\nactive = ["undp-serbia"]\ndefault = "wwp-europe"\n'
    assert 'default protocol "wwp-europe" is not in protocols.active' in problems(tmp_path, text)


def test_broken_toml_says_where(tmp_path):
    assert problems(tmp_path, MINIMAL + "[reminders\n").startswith("config.toml: not valid TOML: ")


def test_the_config_path_comes_from_the_environment_when_not_given(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.toml"
    path.write_text(MINIMAL)
    monkeypatch.setenv("FOLLOWUP_CONFIG", str(path))
    assert config.load().path == path


def test_the_outage_settings_have_defaults_and_refuse_nonsense(tmp_path):
    cfg, _ = load(tmp_path, MINIMAL)
    assert cfg.channels.fallback_after_minutes == 30
    assert cfg.channels.in_doubt_resend_after_minutes == 60
    text = MINIMAL + "[channels]\nfallback_after_minutes = 0\nin_doubt_resend_after_minutes = -5\n"
    lines = problems(tmp_path, text).splitlines()
    assert lines[0].startswith("config.toml: channels.fallback_after_minutes: ")
    assert lines[1].startswith("config.toml: channels.in_doubt_resend_after_minutes: ")


def test_the_old_attempt_count_is_refused_with_where_it_went(tmp_path):
    message = problems(tmp_path, MINIMAL + "[dispatch]\nmax_attempts = 10\n")
    assert message.startswith(
        "config.toml: dispatch: max_attempts was removed: a message is now retried for as long"
    )
    assert "channels.fallback_after_minutes; delete the key" in message


def test_no_proxy_is_trusted_unless_listed_and_listed_ones_are_addresses_or_networks(tmp_path):
    cfg, _ = load(tmp_path, MINIMAL)
    assert cfg.web.trusted_proxies == []
    text = MINIMAL + '[web]\ntrusted_proxies = ["127.0.0.1", "10.1.2.3/8", "::1"]\n'
    cfg, _ = load(tmp_path, text)
    assert cfg.web.trusted_proxies == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]


def test_a_trusted_proxy_that_is_not_an_address_is_refused_naming_the_entry(tmp_path):
    text = MINIMAL + '[web]\ntrusted_proxies = ["127.0.0.1", "proxy.local", "*"]\n'
    lines = problems(tmp_path, text).splitlines()
    assert [line.split(". Hint: ")[0] for line in lines] == [
        "config.toml: web.trusted_proxies[1]: not an IP address or network (got 'proxy.local')",
        "config.toml: web.trusted_proxies[2]: not an IP address or network (got '*')",
    ]
    assert lines[0].endswith(
        'e.g. ["127.0.0.1", "10.0.0.0/8"]: only a request from one of them '
        "may say, in X-Forwarded-For, whose request it passes on"
    )
