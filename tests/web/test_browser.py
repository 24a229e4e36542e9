"""End to end in a real browser: Debian's Chromium driven by Playwright, the app on
uvicorn on loopback.

Skipped unless FOLLOWUP_TEST_BROWSER=1 (CI sets it, and then a missing browser is a
failure). Never downloads a browser: Playwright is pointed at /usr/bin/chromium.
Screenshots of the main pages go to test-artifacts/screenshots/ (not in git; CI keeps
them), and every page is checked with axe-core at 1280 and 375 px (tests/web/accessibility.py:
`check_page(page, name)`, one call for a new page).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from followup.http import create_app
from tests.web.accessibility import SCREENSHOTS, check_page
from tests.web.conftest import build_team

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = SCREENSHOTS
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
HINT = (
    "browser tests skipped: set FOLLOWUP_TEST_BROWSER=1 to run them "
    "(they need Debian's Chromium: apt-get install chromium)"
)


@pytest.fixture
def database_url(tmp_path) -> str:
    """What is under test here is the browser, not the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'followup.db'}"


@pytest.fixture(scope="module")
def chromium():
    if not os.environ.get("FOLLOWUP_TEST_BROWSER"):
        pytest.skip(HINT)
    if not CHROMIUM.exists():
        pytest.fail(
            f"FOLLOWUP_TEST_BROWSER is set but {CHROMIUM} does not exist: apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def serve(ctx):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def site(chromium, deployment):
    """The test team's deployment, served; yields (base URL, team)."""
    team = build_team(deployment)
    server, thread, base = serve(team.ctx)
    yield base, team
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def demo(chromium, deployment):
    """`followup init --demo`, served: the demo cohort and the demo logins."""
    result = deployment.run("init", "--demo")
    assert result.exit_code == 0, result.err
    server, thread, base = serve(deployment.ctx)
    yield base, deployment
    server.should_exit = True
    thread.join(10)


def log_in(
    chromium, base: str, username: str, password: str = "correct horse battery", viewport=PHONE
):
    page = chromium.new_page(viewport=viewport)
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def no_sideways_scroll(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_log_in_see_a_due_follow_up_record_the_interview_and_see_it_done(chromium, site):
    base, team = site
    page = log_in(chromium, base, "facilitator")
    assert page.url == f"{base}/followups"
    due = page.locator("section", has=page.locator("h2", has_text="Window open"))
    assert due.locator("a", has_text="BG-1 · Intake assessment").count() == 1
    due.locator("a", has_text="BG-1 · Intake assessment").click()
    page.wait_for_load_state()
    page.check("input[name=violence_physical][value=no]")
    page.check("input[name=violence_psychological][value=yes]")
    page.select_option("#risk_level", "medium")
    page.fill("#notes", "Talked about the group.")
    page.click("#save-interview")
    page.wait_for_load_state()
    assert "The interview is recorded and this follow-up is done." in page.content()
    assert page.locator("#status").inner_text() == "Done"
    followup_id = team.followup_id("BG-1", "intake_assessment")
    assert team.followup(followup_id).status == "completed"
    page.goto(f"{base}/followups")
    assert page.locator("a", has_text="BG-1 · Intake assessment").count() == 0
    page.close()


def test_a_validation_message_appears_next_to_the_field(chromium, site):
    base, team = site
    page = log_in(chromium, base, "facilitator")
    page.goto(f"{base}/followups/{team.followup_id('BG-1', 'intake_assessment')}")
    page.fill("#conducted_on", "")
    page.click("#save-interview")
    page.wait_for_load_state()
    message = page.locator("#conducted_on-error")
    assert message.inner_text() == "Enter the date."
    field_box, message_box = page.locator("#conducted_on").bounding_box(), message.bounding_box()
    assert 0 <= message_box["y"] - (field_box["y"] + field_box["height"]) < 40
    page.close()


def test_a_facilitator_cannot_reach_a_partner_page_by_url(chromium, site):
    base, _team = site
    page = log_in(chromium, base, "facilitator")
    response = page.goto(f"{base}/partners/P-1")
    assert response.status == 404
    assert "Not found" in page.content() and "P-1" not in page.content()
    missing = page.goto(f"{base}/partners/P-404")
    assert missing.status == 404
    page.close()


def test_an_evaluator_sees_small_cells_suppressed(chromium, demo):
    base, _deployment = demo
    page = log_in(chromium, base, "evaluator", "followup-demo")
    assert page.url == f"{base}/outcomes"
    text = page.inner_text("section.report")
    assert "Small cells are suppressed" in text and "<5" in text
    page.close()


PAGES = {
    "facilitator": ["/followups", "/caseload", "/enrol", "/account", "/search?q=BG"],
    "partner-support": ["/followups", "/caseload", "/alerts", "/search?q=P-"],
    "supervisor": ["/followups?scope=site", "/alerts", "/enrol"],
    "evaluator": ["/outcomes"],
    "manager": ["/schedules"],
    "admin": ["/audit", "/outcomes?by=site", "/accounts"],
}
# Pages reached by following links from a page above: the first link each selector finds,
# one after the other (a participant found by search, then his status form).
FOLLOW = {
    "facilitator": [
        ("/followups", "ul.cards a"),
        ("/search?q=BG", "main li a"),
        ("/search?q=BG", "main li a", "a[href$='/status']"),
        ("/search?q=BG", "main li a", "a[href$='/recidivism']"),
        ("/search?q=BG", "main li a", "a[href$='/check']"),
        ("/search?q=BG", "main li a", "a.record-link"),
    ],
    "partner-support": [
        ("/followups", "ul.cards a"),
        ("/search?q=P-", "main li a"),
        ("/search?q=P-", "main li a", "a[href$='/edit']"),
    ],
    "supervisor": [("/alerts?show=all", "ul.cards a")],
}


def followed(page, base: str, login: str) -> list[str]:
    """The paths FOLLOW reaches for `login`."""
    paths = []
    for where, *selectors in FOLLOW.get(login, []):
        page.goto(f"{base}{where}")
        for n, selector in enumerate(selectors):
            link = page.locator(selector).first
            assert link.count(), (login, where, selector)
            href = link.get_attribute("href")
            if n < len(selectors) - 1:
                page.goto(f"{base}{href}")
        paths.append(href)
    return paths


def test_every_main_page_fits_a_375_pixel_phone_without_sideways_scrolling(chromium, demo):
    base, _deployment = demo
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wide, seen = [], []
    page = chromium.new_page(viewport=PHONE)
    page.goto(f"{base}/login")
    page.screenshot(path=ARTIFACTS / "login.png", full_page=True)
    if no_sideways_scroll(page) > PHONE["width"]:
        wide.append("/login")
    page.close()
    for login, paths in PAGES.items():
        page = log_in(chromium, base, login, "followup-demo")
        paths = [*paths, *followed(page, base, login)]
        for path in paths:
            response = page.goto(f"{base}{path}")
            assert response.status == 200, (login, path, response.status)
            name = f"{login}{path.replace('/', '_').replace('?', '_').replace('=', '-')}.png"
            page.screenshot(path=ARTIFACTS / name, full_page=True)
            seen.append(path)
            if no_sideways_scroll(page) > PHONE["width"]:
                wide.append(f"{login} {path}: {no_sideways_scroll(page)} px")
        page.close()
    assert wide == []
    for kind in ("/followups/", "/participants/", "/partners/", "/alerts/"):
        assert any(path.startswith(kind) for path in seen), kind


def every_page(page, base: str, login: str) -> list[str]:
    """The pages `login` opens (PAGES), the records reached from them (FOLLOW), and the
    page for a missing address."""
    return [*PAGES[login], *followed(page, base, login), "/no-such-page"]


def test_every_page_passes_axe_at_1280_and_375_pixels(chromium, demo):
    """No serious or critical axe-core violation on any page, on a desktop and a phone."""
    base, _deployment = demo
    failures = []

    def check(page, name):
        try:
            check_page(page, name)
        except AssertionError as failed:
            failures.append(str(failed))

    for viewport in (DESKTOP, PHONE):
        page = chromium.new_page(viewport=viewport)
        page.goto(f"{base}/login")
        check(page, "login")
        page.close()
        for login in PAGES:
            page = log_in(chromium, base, login, "followup-demo", viewport=viewport)
            for path in every_page(page, base, login):
                page.goto(f"{base}{path}")
                check(page, f"axe-{login}{path}")
            page.close()
    assert failures == [], "\n".join(failures)


def test_the_skip_link_is_the_first_stop_and_moves_to_the_main_content(chromium, demo):
    base, _deployment = demo
    page = log_in(chromium, base, "evaluator", "followup-demo", viewport=DESKTOP)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    assert page.locator("a.skip").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.close()


def test_on_paper_the_outcomes_page_has_no_navigation_forms_or_buttons(chromium, demo):
    base, _deployment = demo
    page = log_in(chromium, base, "admin", "followup-demo", viewport=DESKTOP)
    page.goto(f"{base}/outcomes?by=site")
    page.emulate_media(media="print")
    for selector in ("header.top", "nav", "form", "button", ".downloads", "a.skip"):
        shown = [e for e in page.locator(selector).all() if e.is_visible()]
        assert shown == [], selector
    assert page.locator("section.report h2").first.is_visible()
    svgs = page.locator("section.report svg")
    assert svgs.count() == 4  # survival, dropout, competing risks, the core score
    for svg in svgs.all():
        assert svg.get_attribute("role") == "img"
        assert "table below" in svg.get_attribute("aria-label")
    page.pdf(path=str(SCREENSHOTS / "outcomes-print.pdf"))
    page.close()


def switch_language(page, base: str, language: str) -> None:
    """As a person does it: the Account page's language form."""
    page.goto(f"{base}/account")
    page.select_option("#language", language)
    page.click("form[action='/account/language'] button[type=submit]")
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == language


def raw_checkpoint_keys(text: str) -> list[str]:
    from tests.web.test_languages import raw_keys

    return raw_keys(text)


@pytest.mark.parametrize("language", ["sq", "sr-Latn"])
def test_in_albanian_and_serbian_pages_and_outcomes_show_no_raw_checkpoint_keys_on_a_phone(
    chromium, demo, language
):
    base, _deployment = demo
    ARTIFACTS.mkdir(exist_ok=True)
    page = log_in(chromium, base, "partner-support", "followup-demo")
    switch_language(page, base, language)
    page.goto(f"{base}/followups")
    link = page.locator("ul.cards a").first
    assert link.count()
    shown = {"/followups": page.inner_text("main")}
    href = link.get_attribute("href")
    page.goto(f"{base}{href}")
    shown[href] = page.inner_text("main")
    page.screenshot(path=ARTIFACTS / f"{language}-followup.png", full_page=True)
    assert no_sideways_scroll(page) <= PHONE["width"]
    page.close()

    page = log_in(chromium, base, "evaluator", "followup-demo")
    switch_language(page, base, language)
    page.goto(f"{base}/outcomes")
    shown["/outcomes"] = page.inner_text("main")
    heading = {"sq": "Ndjekja", "sr-Latn": "Praćenje"}[language]
    assert heading in shown["/outcomes"]
    # Compared by completion, "from completion" cannot be chosen: the form moves off it.
    page.select_option("#origin", "completion")
    page.select_option("#by", "completion")
    assert page.locator("#origin option[value=completion]").is_disabled()
    assert page.eval_on_selector("#origin", "e => e.value") == "end_of_participation"
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    shown["/outcomes?by=completion"] = page.inner_text("main")
    page.screenshot(path=ARTIFACTS / f"{language}-outcomes-by-completion.png", full_page=True)
    assert no_sideways_scroll(page) <= PHONE["width"]
    page.close()
    assert {where: raw_checkpoint_keys(text) for where, text in shown.items()} == {
        where: [] for where in shown
    }
    assert not any("--" in text for text in shown.values())


def test_correct_an_interview_from_the_timeline_on_a_375_pixel_phone(chromium, site):
    """Corrections, never deletion: the facilitator opens the interview from BG-1's
    timeline, corrects an answer with a reason, and sees the earlier version kept."""
    base, team = site
    page = log_in(chromium, base, "facilitator")
    page.goto(f"{base}/followups/{team.followup_id('BG-1', 'intake_assessment')}")
    page.check("input[name=violence_physical][value=yes]")
    page.click("#save-interview")
    page.wait_for_load_state()
    page.goto(f"{base}/participants/BG-1")
    page.click("a.record-link")
    page.wait_for_load_state()
    assert "/records/interview/" in page.url
    page.check("input[name=violence_physical][value=no]")
    page.fill("#reason", "ticked yes for no")
    page.click("#save-correction")
    page.wait_for_load_state()
    assert "The earlier version is kept below." in page.content()
    history = page.locator("ol.versions li")
    assert history.count() == 1 and "ticked yes for no" in history.inner_text()
    assert no_sideways_scroll(page) <= PHONE["width"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "correct-interview-375.png"), full_page=True)
    page.goto(f"{base}/participants/BG-1")
    assert "corrected (1 earlier)" in page.content()
    assert no_sideways_scroll(page) <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "timeline-corrected-375.png"), full_page=True)
    page.close()


def test_her_follow_up_page_shows_her_plan_first_at_375_and_1280_pixels_and_passes_axe(
    chromium, site
):
    """Her worker opens her follow-up: the plan comes before anything else, and on a
    phone and a desktop it fits and passes axe; then "Was it safe to talk? no" records an
    attempt and no interview."""
    base, team = site
    followup_id = team.followup_id("BG-1", "partner_first_contact", partner=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for viewport in (DESKTOP, PHONE):
        page = log_in(chromium, base, "partner_support", viewport=viewport)
        for path in (f"/followups/{followup_id}", "/partners/P-1"):
            page.goto(f"{base}{path}")
            assert page.locator("#safe-plan").is_visible()
            assert "Do NOT leave a message" in page.locator("#safe-plan").inner_text()
            check_page(page, f"safe-plan-{viewport['width']}{path.replace('/', '_')}")
            assert no_sideways_scroll(page) <= viewport["width"], (path, viewport)
        page.close()
    page = log_in(chromium, base, "partner_support")
    page.goto(f"{base}/followups/{followup_id}")
    first = page.locator("main h2").first.inner_text()
    assert first == "Her safe-contact plan"
    page.screenshot(path=str(ARTIFACTS / "partner-followup-plan-375.png"), full_page=True)
    page.check("input[name=safe_to_talk][value=no]")
    page.click("#save-interview")
    page.wait_for_load_state()
    assert "no interview was recorded" in page.content()
    assert team.followup(followup_id).attempts == 1
    page.close()
