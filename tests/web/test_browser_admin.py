"""In Chromium, at a desktop width and on a 375-pixel phone: an administrator invites a
user (the link is shown once and works), and a manager reads what a protocol edit
changed. Skipped unless FOLLOWUP_TEST_BROWSER=1 (see tests/web/test_browser.py)."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import REPO
from tests.web.conftest import build_team
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    chromium,
    database_url,
    no_sideways_scroll,
    serve,
)

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}


@pytest.fixture
def editable_site(chromium, make_deployment, tmp_path):  # noqa: F811
    """The test team with protocol files the test may edit, served."""
    folder = tmp_path / "protocols"
    shutil.copytree(REPO / "schedules", folder)
    team = build_team(make_deployment(protocols_dir=folder))
    team.protocol_file = folder / "undp-serbia.toml"
    server, thread, base = serve(team.ctx)
    yield base, team
    server.should_exit = True
    thread.join(10)


def log_in(chromium, base: str, username: str, viewport: dict):  # noqa: F811
    page = chromium.new_page(viewport=viewport)
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.parametrize("size", SIZES)
def test_an_administrator_invites_a_user_and_the_link_is_shown_once(
    chromium,  # noqa: F811
    editable_site,
    size,
):
    base, team = editable_site
    viewport = SIZES[size]
    ARTIFACTS.mkdir(exist_ok=True)
    page = log_in(chromium, base, "admin", viewport)
    page.click("nav a[href='/accounts']")
    page.wait_for_load_state()
    page.fill("#username", "novak")
    page.select_option("#invite-staff", "SV1")
    page.check("input[name='role.supervisor']")
    page.click("form[action='/accounts/invite'] button[type=submit]")
    page.wait_for_load_state()
    link = page.locator("#invite-link").input_value()
    assert "/invite/" in link
    assert "shown only this once" in page.inner_text("main")
    page.screenshot(path=ARTIFACTS / f"admin_invite_{size}.png", full_page=True)
    assert no_sideways_scroll(page) <= viewport["width"]
    page.goto(f"{base}/accounts")
    assert page.locator("#invite-link").count() == 0 and link not in page.content()
    assert "invited (no password yet)" in page.inner_text("main")
    page.goto(f"{base}/accounts/novak")
    assert page.locator("#invite-link").count() == 0
    page.close()

    # The link names the configured base URL; the test server listens elsewhere.
    link = f"{base}/invite/{link.rsplit('/invite/', 1)[1]}"
    newcomer = chromium.new_page(viewport=viewport)
    newcomer.goto(link)
    newcomer.fill("#password", "a long new password")
    newcomer.fill("#confirm", "a long new password")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_load_state()
    newcomer.goto(f"{base}/login")
    newcomer.fill("#username", "novak")
    newcomer.fill("#password", "a long new password")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_load_state()
    assert newcomer.url.rstrip("/").endswith("/followups")
    used = newcomer.goto(link)
    assert used.status == 404  # the link worked once
    newcomer.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_manager_sees_which_checkpoints_a_protocol_edit_changes(
    chromium,  # noqa: F811
    editable_site,
    size,
):
    base, team = editable_site
    viewport = SIZES[size]
    text = team.protocol_file.read_text()
    team.protocol_file.write_text(text.replace('offset = "3 months"', 'offset = "4 months"', 1))
    page = log_in(chromium, base, "manager", viewport)
    page.goto(f"{base}/schedules")
    diff = page.locator("section.protocol-diff")
    assert diff.count() == 1
    row = diff.locator("tr", has_text="Three months after completion")
    assert row.count() == 1
    assert "when: 3 months → 4 months" in row.inner_text()
    assert "followup_3m" not in diff.inner_text()  # labels, not keys
    plan = page.inner_text("main")
    assert "2 people would move to the new revision" in plan
    page.screenshot(path=ARTIFACTS / f"manager_schedule_diff_{size}.png", full_page=True)
    assert no_sideways_scroll(page) <= viewport["width"]
    page.close()
