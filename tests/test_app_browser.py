"""The workshop page in a real headless Chromium (Debian's /usr/bin/chromium).

One ``solara run app.py --production`` server is started for the module. Its CDN
setting points at a closed local port, so an asset missing from ``solara-assets``
fails loudly (a console error) instead of being fetched from the internet by the
server; together with the check that no browser request leaves 127.0.0.1 this shows
the page works with no internet.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-output"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Debian's Chromium at {CHROMIUM} (make browser installs it)",
    ),
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", None, ""}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """URL of a fresh workshop server on a free local port (stopped after the module)."""
    port = _free_port()
    solara = Path(sys.executable).with_name("solara")
    env = {**os.environ, "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/"}
    SHOTS.mkdir(exist_ok=True)
    log = open(SHOTS / "solara-server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(solara), "run", "app.py", "--host", "127.0.0.1", "--port", str(port), "--production"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            log.close()
            pytest.fail(f"solara server exited early; see {SHOTS / 'solara-server.log'}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("solara server did not answer within 90 s")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One browser session on the page, recording console errors and outside requests."""

    def __init__(self, browser, url: str, width: int = 1600, height: int = 1000):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)
        self.page.goto(url)
        self.page.wait_for_selector(".civic-week", timeout=60_000)

    def _request(self, request) -> None:
        parts = urlparse(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname not in LOCAL_HOSTS:
            self.outside.append(request.url)

    def week(self, where: str = ".civic-counter .num") -> str:
        return self.page.locator(where).first.inner_text().strip()

    def expect_week(self, n: int, where: str = ".civic-week .num") -> None:
        from playwright.sync_api import expect

        expect(self.page.locator(where).first).to_have_text(f"Week {n}", timeout=20_000)

    def step(self, times: int = 1, button: str = ".civic-step", counter=".civic-week .num"):
        start = int(re.search(r"\d+", self.page.locator(counter).first.inner_text()).group())
        for k in range(times):
            self.page.click(button)
            self.expect_week(start + k + 1, counter)

    def choose(self, select_class: str, text: str) -> None:
        self.page.click(f".{select_class}")
        item = self.page.locator(".v-menu__content.menuable__content__active .v-list-item")
        item.filter(has_text=text).first.click()

    def attr(self, selector: str, name: str, index: int = 0) -> str | None:
        return self.page.locator(selector).nth(index).get_attribute(name)

    def expect_attr(self, selector: str, name: str, value: str, index: int = 0) -> None:
        """Wait until an element's attribute has the value (widgets update one by one)."""
        from playwright.sync_api import expect

        expect(self.page.locator(selector).nth(index)).to_have_attribute(
            name, value, timeout=20_000
        )

    def expect_text(self, selector: str, text: str, index: int = 0) -> None:
        """Wait until an element (an SVG too) contains the text."""
        from playwright.sync_api import expect

        expect(self.page.locator(selector).nth(index)).to_contain_text(text, timeout=20_000)

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def visit(browser, server):
    v = Visit(browser, server)
    yield v
    v.close()


def test_page_loads_offline_with_no_console_errors(visit):
    page = visit.page
    page.wait_for_selector("svg.civic-map")
    assert page.locator("svg.civic-chart").count() == 4
    assert visit.week() == "Week 0"
    for tab in (".civic-tab-pair", ".civic-tab-info", ".civic-tab-workshop"):
        page.click(tab)
        page.wait_for_timeout(400)
    page.wait_for_selector("svg.civic-map")
    page.wait_for_load_state("networkidle")
    assert visit.errors == []
    assert visit.outside == []


def test_step_advances_the_week_counter_and_the_charts(visit):
    assert visit.attr("svg.civic-chart", "data-points") == "0"
    visit.step(3)
    visit.expect_attr("svg.civic-map", "data-week", "3")
    for i in range(4):
        visit.expect_attr("svg.civic-chart", "data-points", "3", i)
    unmet = visit.page.locator(".civic-unmet .num").inner_text()
    assert re.fullmatch(r"[\d,]+ of [\d,]+", unmet), unmet
    assert visit.page.locator(".civic-spend .num").inner_text().startswith("£")


def test_play_then_pause(visit):
    page = visit.page
    page.click(".civic-play")
    page.wait_for_function(
        "() => parseInt(document.querySelector('.civic-week .num').innerText.slice(5)) >= 3",
        timeout=20_000,
    )
    page.click(".civic-play")  # now the Pause button
    page.wait_for_timeout(700)
    paused_at = visit.week()
    page.wait_for_timeout(800)
    assert visit.week() == paused_at
    assert page.locator(".civic-play").inner_text().strip().upper().endswith("PLAY")


def test_strategy_preset_seed_and_reset_rebuild_the_model(visit):
    page = visit.page
    visit.step(2)
    visit.choose("civic-strategy", "Facilitator hub")
    visit.expect_week(0)
    visit.expect_text("svg.civic-map", "Facilitator hub")
    visit.step(1)
    visit.expect_attr("svg.civic-chart", "data-points", "1", 3)
    visit.expect_text("svg.civic-chart", "Coordinators", 3)

    visit.choose("civic-scenario", "Austerity")
    visit.expect_week(0)
    visit.expect_text(".civic-label-budget_cut_rate", "2.0% a year")
    visit.expect_text("svg.civic-map", "Austerity")

    visit.step(2)
    page.click(".civic-reset")
    visit.expect_week(0)

    before = page.locator("svg.civic-map").inner_html()
    seed = page.locator(".civic-seed input")
    seed.fill("7")
    seed.press("Enter")
    page.wait_for_function(
        "(old) => document.querySelector('svg.civic-map').innerHTML !== old", arg=before
    )
    visit.expect_week(0)

    seed.fill("-3")
    seed.press("Enter")
    visit.expect_text(".v-alert", "parameter 'seed' must be")

    visit.step(2)
    slider = page.locator(".civic-slider-budget_cut_rate [role=slider]")
    slider.focus()
    slider.press("ArrowRight")  # one step of 0.5 points, applied at once
    visit.expect_text(".civic-label-budget_cut_rate", "2.5% a year")
    visit.expect_week(0)


def test_side_by_side_steps_both_models_in_lockstep(visit):
    page = visit.page
    visit.step(1)
    page.click(".civic-tab-pair")
    page.wait_for_selector("svg.civic-compare")
    a, b = ".civic-side-a-counters .civic-week", ".civic-side-b-counters .civic-week"
    assert page.locator(a).inner_text() == page.locator(b).inner_text() == "Week 0"
    for k in (1, 2):
        page.click(".civic-pair-step")
        visit.expect_week(k, a)
        visit.expect_week(k, b)
    assert page.locator("svg.civic-map").count() == 2
    visit.expect_text("svg.civic-map", "A: Direct delivery", 0)
    visit.expect_text("svg.civic-map", "B: Facilitator hub", 1)
    visit.expect_attr("svg.civic-compare", "data-points", "2")
    page.click(".civic-tab-workshop")
    visit.expect_week(1)  # the workshop's own model is untouched
    page.click(".civic-tab-pair")
    visit.expect_week(2, a)  # and the pair is kept while away


def test_two_browser_sessions_stay_independent(browser, server):
    first, second = Visit(browser, server), Visit(browser, server)
    try:
        first.step(3)
        second.page.wait_for_timeout(500)
        assert second.week() == "Week 0"
        second.step(1)
        assert first.week() == "Week 3"
        second.choose("civic-strategy", "Hybrid")
        second.expect_week(0)
        second.expect_text("svg.civic-map", "Hybrid")
        first.expect_text("svg.civic-map", "Direct delivery")
        assert first.week() == "Week 3"
    finally:
        first.close()
        second.close()


def test_screenshot_after_some_steps(browser, server):
    visit = Visit(browser, server, width=1920, height=1080)
    try:
        page = visit.page
        visit.choose("civic-strategy", "Facilitator hub")
        visit.expect_week(0)
        page.click(".v-select:has-text('Weeks per frame')")
        page.locator(".menuable__content__active .v-list-item").filter(has_text="13").click()
        page.click(".civic-play")
        page.wait_for_function(
            "() => parseInt(document.querySelector('.civic-week .num').innerText.slice(5)) >= 104",
            timeout=60_000,
        )
        page.click(".civic-play")
        page.wait_for_timeout(800)
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / "workshop.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 50_000
        assert visit.errors == []
    finally:
        visit.close()
