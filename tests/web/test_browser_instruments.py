"""The instrument form in a real browser (FOLLOWUP_TEST_BROWSER=1; see test_browser.py):
at 375 and 1280 px it passes axe, fits the phone, hides and shows skip-rule items while
filling in, and saves to a page showing the score and its band."""

from __future__ import annotations

import pytest

from tests.support.instrument_world import instrument_schedules
from tests.web.accessibility import check_page
from tests.web.conftest import build_team
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    chromium,
    database_url,
    log_in,
    no_sideways_scroll,
    serve,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def instrument_site(chromium, make_deployment, tmp_path):  # noqa: F811
    folder = instrument_schedules(tmp_path / "schedules")
    team = build_team(make_deployment(protocols_dir=folder, active=("undp-serbia", "wwp-europe")))
    server, thread, base = serve(team.ctx)
    yield base, team
    server.should_exit = True
    thread.join(10)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_instrument_form_hides_skipped_items_live_passes_axe_and_saves(
    chromium,  # noqa: F811
    instrument_site,
    viewport,
):
    base, team = instrument_site
    page = log_in(chromium, base, "facilitator", viewport=viewport)
    page.goto(f"{base}/followups/{team.followup_id('BG-1', 'intake_assessment')}")
    injured = page.locator("#item-injured")
    assert injured.is_hidden()  # asked only when "hit" is yes: nothing answered yet
    page.check("input[name=answer_hit][value=yes]")
    assert injured.is_visible()
    check_page(page, "record interview instrument")
    if viewport is PHONE:
        assert no_sideways_scroll(page) <= PHONE["width"]
    page.check("input[name=answer_hit][value=dont_know]")
    assert injured.is_hidden()
    page.check("input[name=answer_hit][value=yes]")
    page.check("input[name=answer_injured][value=no]")
    page.select_option("#answer_threats", "few")
    page.check("input[name=answer_felt_safety][value='4']")
    page.fill("#answer_calls", "2")
    page.select_option("#missing_last_seen", "refused")
    page.fill("#answer_in_his_words", "He said little.")
    page.click("#save-interview")
    page.wait_for_load_state()
    assert "The interview is recorded and this follow-up is done." in page.content()
    assert page.locator("#score-danger").inner_text().split() == ["6", "·", "high"]
    check_page(page, "interview scores")
    page.close()
