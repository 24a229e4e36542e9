"""The work list (filters, tick, mark missed) and her safety alert banner, in Debian's
Chromium at a desk's 1280 px and a phone's 375 px. Skipped unless FOLLOWUP_TEST_BROWSER=1
(see tests/web/test_browser.py, whose fixtures these share)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from followup.models import Partner, SafetyAlert
from tests.web import test_browser as shared
from tests.web.test_browser import ARTIFACTS, no_sideways_scroll

# The browser, the served team and its SQLite database: the same fixtures as test_browser.
chromium, site, database_url = shared.chromium, shared.site, shared.database_url

pytestmark = pytest.mark.browser
WIDTHS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


def log_in(chromium, base: str, username: str, viewport: dict):
    page = chromium.new_page(viewport=viewport)
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_filter_the_list_tick_her_follow_up_and_mark_it_missed_with_a_reason(chromium, site, width):
    base, team = site
    hers = team.followup_id("BG-1", "partner_first_contact", partner=True)
    page = log_in(chromium, base, "supervisor_ps", WIDTHS[width])
    page.goto(f"{base}/followups?scope=site")
    page.select_option("#informant", "partner")
    page.click("#apply-filters")
    page.wait_for_load_state()
    assert "informant=partner" in page.url
    assert page.locator("a", has_text="BG-1 · Intake assessment").count() == 0
    page.check(f"#pick-{hers}")
    page.select_option("#reason", "unreachable")
    page.once("dialog", lambda dialog: dialog.accept())
    shoot(page, f"worklist-filtered-{width}")
    assert no_sideways_scroll(page) <= WIDTHS[width]["width"]
    page.click("#mark-missed-button")
    page.wait_for_load_state()
    assert page.locator("#marked").inner_text() == "Follow-ups marked missed: 1."
    assert "informant=partner" in page.url  # back on the same filtered list
    assert page.locator(f"#pick-{hers}").count() == 0
    assert team.followup(hers).status == "missed"
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_her_alert_banner_leads_to_the_alert_and_acknowledging_it_clears_it(chromium, site, width):
    base, team = site
    with team.session() as session:
        her = session.execute(sa.select(Partner).where(Partner.partner_id == "P-1")).scalar_one()
        session.add(SafetyAlert(participant_id=her.participant_id, partner_id=her.id))
    his = log_in(chromium, base, "facilitator", WIDTHS[width])
    his.goto(f"{base}/participants/BG-1")
    assert his.locator("#alert-banner").count() == 0 and his.locator("#alert-count").count() == 0
    his.close()
    page = log_in(chromium, base, "partner_support", WIDTHS[width])
    assert page.locator("#alert-count").inner_text() == "1"
    page.goto(f"{base}/partners/P-1")
    banner = page.locator("#alert-banner")
    assert banner.is_visible() and "Open safety alerts: 1." in banner.inner_text()
    shoot(page, f"alert-banner-{width}")
    assert no_sideways_scroll(page) <= WIDTHS[width]["width"]
    banner.locator("a").click()
    page.wait_for_load_state()
    page.select_option("#action", "contacted_her")
    page.fill("#note", "Spoke with her in her safe hours.")
    page.click("button:has-text('Acknowledge')")
    page.wait_for_load_state()
    assert page.locator("#action").inner_text() == "Contacted her safely"
    assert page.locator("#alert-count").count() == 0
    page.goto(f"{base}/partners/P-1")
    assert page.locator("#alert-banner").count() == 0
    page.close()
