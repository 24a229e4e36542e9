"""The encryption key: created 0600 by init, required once partner data exists."""

from __future__ import annotations

import stat

import pytest
from freezegun import freeze_time

from followup.errors import KeyUnavailable


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


def with_partner(deployment):
    deployment.run(
        "enrol", "BG-1", "--site", "BG", "--referral-source", "court", "--enrolled-on", "2026-11-01"
    )
    path = deployment.csv(
        "p.csv",
        """\
        partner_id,case_id,relationship,consent_on,channel,phone,email
        P-1,BG-1,current,,phone,+381601234567,
        """,
    )
    result = deployment.run("import", "partners", str(path))
    assert result.exit_code == 0, result.err


def test_init_creates_a_private_key_file_when_the_environment_has_none(
    make_deployment, monkeypatch
):
    monkeypatch.delenv("FOLLOWUP_SECRET_KEY")
    deployment = make_deployment()
    key = deployment.folder / "followup.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with_partner(deployment)
    again = deployment.run("init")
    assert again.exit_code == 0 and key.read_text()  # never overwritten


def test_without_a_key_partner_data_is_refused_with_what_to_do(deployment, monkeypatch):
    with_partner(deployment)
    monkeypatch.delenv("FOLLOWUP_SECRET_KEY")
    deployment._ctx = None
    with pytest.raises(KeyUnavailable) as error, deployment.session() as session:
        deployment.ctx.check_key(session)
    assert "no encryption key for partner data. Hint: set FOLLOWUP_SECRET_KEY" in str(error.value)
    result = deployment.run("init")
    assert result.exit_code == 1


def test_a_wrong_key_is_refused_and_a_rotated_key_list_opens_old_data(
    deployment, monkeypatch, secret_key
):
    from cryptography.fernet import Fernet

    with_partner(deployment)
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("FOLLOWUP_SECRET_KEY", new)
    deployment._ctx = None
    with (
        pytest.raises(KeyUnavailable, match="this key does not open the stored partner data"),
        deployment.session() as s,
    ):
        deployment.ctx.check_key(s)
    monkeypatch.setenv("FOLLOWUP_SECRET_KEY", f"{new},{secret_key}")
    deployment._ctx = None
    with deployment.session() as session:
        deployment.ctx.check_key(session)


def test_a_key_file_others_can_read_is_refused(make_deployment, monkeypatch):
    monkeypatch.delenv("FOLLOWUP_SECRET_KEY")
    deployment = make_deployment()
    key = deployment.folder / "followup.key"
    key.chmod(0o644)
    deployment._ctx = None
    with pytest.raises(
        KeyUnavailable, match=r"readable by other users \(mode 644\). Hint: chmod 600"
    ):
        deployment.ctx.vault  # noqa: B018


@pytest.mark.parametrize(
    "command",
    [
        ("due",),
        ("dispatch", "--once"),
        ("serve",),
        ("worker",),
        ("enrol", "BG-2", "--site", "BG", "--referral-source", "court"),
        ("record", "check", "BG-1", "--on", "2026-11-20", "--no-new-offence"),
        ("schedule", "plan"),
    ],
)
def test_every_command_that_works_with_cases_refuses_to_run_without_the_key(
    deployment, monkeypatch, command
):
    with_partner(deployment)
    monkeypatch.delenv("FOLLOWUP_SECRET_KEY")
    result = deployment.run(*command)
    assert (result.exit_code, result.err) == (
        1,
        f"Error: {deployment.folder / 'followup.key'}: no encryption key for partner data. "
        "Hint: set FOLLOWUP_SECRET_KEY, restore the key file, or run `followup init` for a "
        "new deployment\n",
    )


def test_a_wrong_key_stops_dispatch_before_anything_is_sent(deployment, monkeypatch):
    from cryptography.fernet import Fernet

    with_partner(deployment)
    monkeypatch.setenv("FOLLOWUP_SECRET_KEY", Fernet.generate_key().decode())
    result = deployment.run("dispatch", "--once")
    assert result.exit_code == 1
    assert "this key does not open the stored partner data" in result.err
    assert result.out == ""


def test_the_report_and_the_audit_trail_still_open_while_the_key_is_being_restored(
    deployment, monkeypatch
):
    with_partner(deployment)
    monkeypatch.delenv("FOLLOWUP_SECRET_KEY")
    assert deployment.run("report", "--format", "json").exit_code == 0
    assert deployment.run("audit").exit_code == 0


def test_commands_run_without_a_key_while_no_partner_data_exists(deployment, monkeypatch):
    monkeypatch.delenv("FOLLOWUP_SECRET_KEY")
    result = deployment.run("due")
    assert (result.exit_code, result.out) == (0, "Nothing due.\n")
