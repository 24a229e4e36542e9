"""One call for a page in the browser tests: `check_page(page, name)` saves a screenshot
for CI to keep and fails on any serious or critical axe-core violation.

axe-core comes bundled in the `axe-playwright-python` package (the `test` extras): nothing
is fetched at test time. A new page in tests/web/test_browser.py gets checked with

    check_page(page, "my-page")       # after page.goto(...), at the viewport it has

Screenshots go to test-artifacts/screenshots/NAME-WIDTH.png (gitignored; CI keeps the
folder as an artefact).
"""

from __future__ import annotations

import re

from tests.conftest import REPO

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
BLOCKING = ("serious", "critical")


def violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def describe(found: list[dict]) -> str:
    lines = []
    for violation in found:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(
            f"{violation['impact']}: {violation['id']} ({violation['help']}) at {'; '.join(targets)}"
        )
    return "\n".join(lines)


def check_page(page, name: str) -> None:
    """Screenshot the page (full length) and fail on serious or critical axe violations."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", name).strip("_")
    page.screenshot(path=SCREENSHOTS / f"{safe}-{width}.png", full_page=True)
    found = violations(page)
    assert not found, f"{name} at {width} px:\n{describe(found)}"
