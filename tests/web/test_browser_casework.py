"""Casework end to end in Chromium (see tests/web/test_browser.py for the set-up): enrol a
man, add his partner, record his admission and programme start, and read which follow-ups
moved — at 1280 px and on a 375 px phone, without JavaScript doing any of the work.

Skipped unless FOLLOWUP_TEST_BROWSER=1. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from followup.models import Partner
from tests.web import test_browser as shared
from tests.web.test_browser import ARTIFACTS, PHONE, no_sideways_scroll

# The browser, its database and the served test team: test_browser.py's fixtures.
chromium, database_url, site = shared.chromium, shared.database_url, shared.site

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 900}
HER_PHONE = "+381605550101"


def open_as(chromium, base: str, username: str, viewport: dict, *, javascript: bool):
    context = chromium.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def shot(page, name: str, width: int, wide: list[str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"casework-{width}-{name}.png", full_page=True)
    if width == PHONE["width"] and no_sideways_scroll(page) > width:
        wide.append(f"{name}: {no_sideways_scroll(page)} px")


@pytest.mark.parametrize(
    ("viewport", "javascript"), [(DESK, True), (PHONE, False)], ids=["1280px", "375px-no-js"]
)
def test_enrol_add_his_partner_and_record_his_status_in_the_browser(
    chromium, site, viewport, javascript
):
    base, team = site
    width = viewport["width"]
    case_id = f"BG-W{width}"
    today = team.ctx.site_today("BG")
    wide: list[str] = []
    # A supervisor who also supports partners may do all three (policy.enrol, add_partner,
    # record_status); nobody else at the test centre may.
    context, page = open_as(chromium, base, "supervisor_ps", viewport, javascript=javascript)

    page.click("nav a[href='/enrol']")
    page.wait_for_load_state()
    page.fill("#case_id", case_id)
    page.select_option("#referral_source", "court")
    page.fill("#enrolled_on", (today - timedelta(days=20)).isoformat())
    page.select_option("#facilitator", "F1")
    shot(page, "enrol", width, wide)
    page.click("#enrol")
    page.wait_for_load_state()
    assert page.url == f"{base}/participants/{case_id}"
    assert "Marko Petrović" in page.content()
    shot(page, "participant", width, wide)

    page.click(f"a[href='/participants/{case_id}/partners/new']")
    page.wait_for_load_state()
    assert page.locator("#support_worker option[value='F1']").count() == 0  # his facilitator
    page.fill("#partner_id", f"P-W{width}")
    page.select_option("#relationship", "current")
    page.select_option("#support_worker", "PS1")
    page.fill("#consent_on", (today - timedelta(days=10)).isoformat())
    page.fill("#phone", HER_PHONE)
    shot(page, "partner", width, wide)
    page.click("#save-partner")
    page.wait_for_load_state()
    assert page.url == f"{base}/partners/P-W{width}"
    assert HER_PHONE not in page.content()  # only behind the audited "Show"
    with team.session() as session:
        her = session.query(Partner).filter_by(partner_id=f"P-W{width}").one()
        assert her.contact_sealed is not None

    page.goto(f"{base}/participants/{case_id}")
    page.click(f"a[href='/participants/{case_id}/status']")
    page.wait_for_load_state()
    page.fill("#on", "")
    page.click("#save-status")  # nothing chosen: the messages stand next to their fields
    page.wait_for_load_state()
    assert page.locator("#event-error").inner_text() == "Choose one of the options."
    assert page.locator("#on-error").inner_text() == "Enter the date."
    for event, days in (("admitted", 15), ("programme_start", 12)):
        page.check(f"input[name=event][value={event}]")
        page.fill("#on", (today - timedelta(days=days)).isoformat())
        page.click("#save-status")
        page.wait_for_load_state()
        assert "/status?saved=" in page.url
    moved = page.locator("#moved").inner_text()
    assert "End of programme" in moved and "Three months after completion" in moved
    assert "followup_3m" not in moved and "end_of_programme" not in moved
    shot(page, "status", width, wide)
    context.close()
    assert wide == []
