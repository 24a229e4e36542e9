"""The one-click contact attempt in Debian's Chromium at a phone's 375 px, with axe: her
worker records a call from her list, is refused a channel her plan does not allow, and
records it with a reason. Skipped unless FOLLOWUP_TEST_BROWSER=1 (the fixtures are
tests/web/test_browser.py's)."""

from __future__ import annotations

import pytest

from followup.safe_contact import SafeContactPlan
from tests.test_attempts import set_plan
from tests.web import test_browser as shared
from tests.web.accessibility import check_page
from tests.web.test_browser import PHONE, log_in, no_sideways_scroll

chromium, site, database_url = shared.chromium, shared.site, shared.database_url

pytestmark = pytest.mark.browser


def test_her_worker_records_attempts_from_her_list_on_a_phone(chromium, site):
    base, team = site
    # A plan with no safe times refuses nothing on time (the test runs on the real clock);
    # its channels still rule.
    set_plan(team, "P-1", SafeContactPlan(channels={"phone": "+381601234567"}))
    hers = team.followup_id("BG-1", "partner_first_contact", partner=True)
    page = log_in(chromium, base, "partner_support", viewport=PHONE)
    page.goto(f"{base}/followups")
    assert page.locator(f"#attempt-channel-{hers}").input_value() == "phone"
    check_page(page, "attempt-form")
    assert no_sideways_scroll(page) <= PHONE["width"]
    page.click(f"#attempt-button-{hers}")
    page.wait_for_load_state()
    assert page.locator("#attempted").inner_text() == "Attempt recorded."
    assert page.locator(f"#attempts-{hers}").inner_text().startswith("Attempts: 1 (last: No answer")
    page.select_option(f"#attempt-outcome-{hers}", "reached")
    page.select_option(f"#attempt-channel-{hers}", "sms")
    page.click(f"#attempt-button-{hers}")
    page.wait_for_load_state()
    problem = page.locator(f"#attempt-problem-{hers}")
    assert "does not allow contact by sms" in problem.inner_text()
    check_page(page, "attempt-refused")
    assert no_sideways_scroll(page) <= PHONE["width"]
    page.fill(f"#attempt-reason-{hers}", "she texted first")
    page.click(f"#attempt-button-{hers}")
    page.wait_for_load_state()
    assert page.locator("#attempted").inner_text() == "Attempt recorded."
    followup = team.followup(hers)
    assert (followup.attempts, followup.last_attempt_outcome) == (2, "reached")
    page.close()
