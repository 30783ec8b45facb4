"""The workshop page in a real headless Chromium (Debian's /usr/bin/chromium).

One ``solara run app.py --production`` server is started for the module. Its CDN
setting points at a closed local port, so an asset missing from ``solara-assets``
fails loudly (a console error) instead of being fetched from the internet by the
server; together with the check that no browser request leaves 127.0.0.1 this shows
the page works with no internet. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
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
WAIT = 30_000  # ms


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """URL of a fresh workshop server on a free local port (stopped after the module)."""
    port = _free_port()
    solara = Path(sys.executable).with_name("solara")
    env = {
        **os.environ,
        "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "CIVIC_SIM_BAND_SEEDS": "2",
    }
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
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)
        self.page.goto(url)
        self.page.wait_for_selector(".civic-counter.civic-week", timeout=60_000)

    def _request(self, request) -> None:
        parts = urlparse(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname not in LOCAL_HOSTS:
            self.outside.append(request.url)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).first.inner_text().strip()

    def week(self, where: str = ".civic-counter.civic-week .num") -> int:
        return int(re.search(r"\d+", self.text(where)).group())

    def expect_week(self, n: int, where: str = ".civic-counter.civic-week .num") -> None:
        from playwright.sync_api import expect

        expect(self.page.locator(where).first).to_have_text(f"Week {n}", timeout=WAIT)

    def wait_week_at_least(self, n: int, where=".civic-counter.civic-week .num", timeout=WAIT):
        self.page.wait_for_function(
            "([sel, n]) => { const e = document.querySelector(sel);"
            " return e && parseInt(e.innerText.replace(/\\D+/g, '')) >= n; }",
            arg=[where, n],
            timeout=timeout,
        )

    def step(self, times: int = 1, button=".civic-step", where=".civic-counter.civic-week .num"):
        start = self.week(where)
        for k in range(times):
            self.page.click(button)
            self.expect_week(start + k + 1, where)

    def choose(self, select_css: str, text: str) -> None:
        self.page.click(select_css)
        item = self.page.locator(".v-menu__content.menuable__content__active .v-list-item")
        item.filter(has_text=text).first.click()

    def expect_text(self, selector: str, text: str, index: int = 0) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator(selector).nth(index)).to_contain_text(text, timeout=WAIT)

    def open_settings(self) -> None:
        if not self.page.locator(".civic-sidebar").is_visible():
            self.page.click(".civic-settings-toggle")
            self.page.wait_for_selector(".civic-sidebar", state="visible")

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / name
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def visit(browser, server):
    v = Visit(browser, server)
    yield v
    v.close()


# --- what the browser can check -------------------------------------------------------------
OFF_SCREEN = """
(root) => {
  const vw = window.innerWidth, vh = window.innerHeight, out = [];
  for (const el of document.querySelectorAll(root + ' *')) {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    if (el.closest('.v-menu__content') || getComputedStyle(el).visibility === 'hidden') continue;
    if (r.bottom > vh + 0.5 || r.right > vw + 0.5 || r.left < -0.5 || r.top < -0.5) {
      out.push((el.className.baseVal ?? el.className) + ' ' + el.tagName + ' ' +
               Math.round(r.left) + ',' + Math.round(r.top) + ' ' +
               Math.round(r.right) + ',' + Math.round(r.bottom));
    }
  }
  return {off: out.slice(0, 12), count: out.length,
          scroll: [document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]};
}
"""

TEXT_SIZES = """
(root) => {
  const small = [];
  let smallest = 1e9;
  const charts = root + ' svg.civic-chart, ' + root + ' svg.civic-compare';
  for (const svg of document.querySelectorAll(charts)) {
    const r = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
    const scale = Math.min(r.width / vb.width, r.height / vb.height);
    for (const t of svg.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      const px = parseFloat(t.getAttribute('font-size')) * scale;
      smallest = Math.min(smallest, px);
      if (px < 15.95) small.push(t.textContent + ' ' + px.toFixed(1));
    }
  }
  for (const el of document.querySelectorAll(
      root + ' .civic-legend-item, ' + root + ' .civic-colourbar, ' + root + ' .civic-counter, ' +
      root + ' .civic-small-counters')) {
    const px = parseFloat(getComputedStyle(el).fontSize);
    smallest = Math.min(smallest, px);
    if (px < 15.95) small.push(el.className + ' ' + px);
  }
  return {small: small.slice(0, 10), smallest};
}
"""

DOT_SIZE = """
() => {
  const svg = document.querySelector('.civic-view svg.civic-map');
  const r = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
  const scale = Math.min(r.width / vb.width, r.height / vb.height);
  const dot = svg.querySelector('g.residents-2 use:last-of-type');
  return {dot: parseFloat(dot.getAttribute('stroke-width')) * 0.1 * scale, width: vb.width * scale};
}
"""


def check_fits(visit: Visit, root: str) -> None:
    """Nothing of the view is off screen, and chart and legend text is 16 px or more."""
    found = visit.page.evaluate(OFF_SCREEN, root)
    assert found["count"] == 0, found
    width, height = visit.page.viewport_size["width"], visit.page.viewport_size["height"]
    assert found["scroll"][0] <= width and found["scroll"][1] <= height, found
    sizes = visit.page.evaluate(TEXT_SIZES, root)
    assert sizes["small"] == [], sizes
    assert sizes["smallest"] >= 16 - 0.05


# --- the tests -----------------------------------------------------------------------------
def test_page_loads_offline_with_no_console_errors_and_no_badge(visit):
    page = visit.page
    page.wait_for_selector("svg.civic-map")
    assert page.locator("svg.civic-chart").count() == 4
    assert visit.week() == 0
    for tab in (".civic-tab-pair", ".civic-tab-info", ".civic-tab-workshop"):
        page.click(tab)
        page.wait_for_timeout(500)
    page.wait_for_selector(".civic-view-workshop svg.civic-map")
    page.wait_for_load_state("networkidle")
    assert "runs on Solara" not in page.content()
    assert visit.errors == []
    assert visit.outside == []


def test_step_advances_the_week_counter_and_the_charts(visit):
    assert visit.page.locator("svg.civic-chart").first.get_attribute("data-points") == "0"
    visit.step(3)
    visit.page.wait_for_selector('svg.civic-map[data-week="3"]', timeout=WAIT)
    assert visit.page.locator('svg.civic-chart[data-points="3"]').count() == 4
    assert re.fullmatch(r"[\d,]+ of [\d,]+", visit.text(".civic-unmet .num"))
    assert visit.text(".civic-spend .num").startswith("£")


def test_projector_layout_fits_1280x720_with_nothing_off_screen(browser, server):
    visit = Visit(browser, server, width=1280, height=720)
    try:
        page = visit.page
        page.click(".civic-projector-switch")
        page.wait_for_selector(".civic-sidebar", state="hidden", timeout=WAIT)
        visit.step(2)
        check_fits(visit, ".civic-view-workshop")
        small = page.evaluate(DOT_SIZE)
        assert small["dot"] >= 6.0, small  # a resident with unmet need, drawn in px
        visit.shot("projector-workshop-1280x720.png")
        page.click(".civic-tab-pair")
        page.wait_for_selector(".civic-view-pair svg.civic-compare", timeout=WAIT)
        page.click(".civic-pair-step")
        visit.expect_week(1, ".civic-side-a-counters .civic-week")
        check_fits(visit, ".civic-view-pair")
        visit.shot("projector-side-by-side-1280x720.png")
        if page.locator(".civic-panel-set").count():  # a model with care homes and carers
            page.click(".civic-panel-set-care")
            visit.expect_text(".civic-panels", "People in care homes")
            assert "Active volunteers" not in visit.text(".civic-panels")
            check_fits(visit, ".civic-view-pair")
            visit.shot("projector-side-by-side-care-homes-1280x720.png")
            page.click(".civic-panel-set-need")
            visit.expect_text(".civic-panels", "Active volunteers")
        # markers scale with the map's drawn size: a bigger screen, bigger dots
        page.click(".civic-tab-workshop")
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.wait_for_timeout(600)
        big = page.evaluate(DOT_SIZE)
        assert big["width"] > 1.3 * small["width"]
        assert big["dot"] / big["width"] == pytest.approx(small["dot"] / small["width"], rel=0.02)
        check_fits(visit, ".civic-view-workshop")
        assert visit.errors == []
    finally:
        visit.close()


def test_seed_errors_show_in_the_field_and_clear_when_fixed(visit):
    page = visit.page
    visit.open_settings()
    seed = page.locator(".civic-seed input")
    field = ".civic-seed"
    for text, message in [
        ("abc", "whole number such as 1 or 42"),
        ("1.5", "no decimal point"),
        ("-3", "cannot be negative"),
        (str(2**63), "too large"),
    ]:
        seed.fill(text)
        seed.press("Enter")
        visit.expect_text(field, message)
    assert "seed 1" in visit.text(".civic-map-title")  # the old seed is still in use, and says so
    big = 2**62 + 12345
    before = page.locator("svg.civic-map").inner_html()
    seed.fill(str(big))
    seed.press("Enter")
    visit.expect_text(".civic-map-title", f"seed {big}")  # every digit kept
    page.wait_for_function(
        "(old) => document.querySelector('svg.civic-map').innerHTML !== old", arg=before
    )
    assert "cannot" not in page.locator(field).inner_text()
    assert "Press Enter" in page.locator(field).inner_text()  # the error is gone


def test_presets_sliders_and_the_custom_label(visit):
    page = visit.page
    visit.open_settings()
    visit.choose(".civic-scenario", "Austerity")
    visit.expect_text(".civic-map-title", "Austerity")
    visit.expect_text(".civic-label-budget_cut_rate", "2.0% a year")
    slider = page.locator(".civic-slider-budget_cut_rate [role=slider]")
    slider.focus()
    slider.press("ArrowRight")  # one step of 0.5 points, applied at once
    visit.expect_text(".civic-label-budget_cut_rate", "2.5% a year")
    visit.expect_text(".civic-map-title", "Custom (from Austerity)")
    visit.step(2)
    # the cut is marked on the charts where it starts
    page.wait_for_selector("svg.civic-chart .event-marker", timeout=WAIT)
    assert "cut 2.5% a year" in page.locator("svg.civic-chart").first.inner_html()
    visit.choose(".civic-strategy", "Facilitator hub")
    visit.expect_week(0)
    visit.expect_text(".civic-map-title", "Facilitator hub · Custom (from Austerity)")


def test_run_controls_speed_is_shared_double_clicks_are_safe_and_tabs_keep_running(visit):
    page = visit.page
    visit.choose(".civic-pace", "Fast")
    page.dblclick(".civic-play")  # a double-click starts Play and leaves it running
    page.wait_for_timeout(1200)
    assert "Pause" in visit.text(".civic-play")
    playing_at = visit.week()
    page.click(".civic-tab-pair")
    page.wait_for_selector(".civic-view-pair svg.civic-compare", timeout=WAIT)
    assert "Fast" in visit.text(".civic-pair-pace")  # one speed for both tabs
    page.wait_for_timeout(1500)
    page.click(".civic-tab-workshop")
    visit.wait_week_at_least(playing_at + 20)  # the run went on while the tab was away
    assert "Pause" in visit.text(".civic-play")
    page.click(".civic-play")
    page.wait_for_function(
        "() => document.querySelector('.civic-play').innerText.includes('Play')", timeout=WAIT
    )
    page.click(".civic-run-to")
    visit.expect_week(520)  # "To year 10" stops exactly at the horizon
    page.wait_for_selector(".civic-results", timeout=WAIT)
    assert page.locator(".civic-play").is_disabled() and page.locator(".civic-step").is_disabled()
    visit.expect_text(".civic-results", "After ten years")


def test_side_by_side_results_card_kept_run_and_chance_band(browser, server):
    visit = Visit(browser, server, width=1280, height=720)
    try:
        page = visit.page
        page.click(".civic-projector-switch")
        page.click(".civic-tab-pair")
        page.wait_for_selector(".civic-view-pair svg.civic-compare", timeout=WAIT)
        a, b = ".civic-side-a-counters .civic-week", ".civic-side-b-counters .civic-week"
        page.click(".civic-pair-step")
        visit.expect_week(1, a)
        visit.expect_week(1, b)
        page.click(".civic-pair-run-to")
        page.wait_for_selector(".civic-pair-results", timeout=60_000)
        card = visit.text(".civic-pair-results")
        assert "A: Direct delivery" in card and "B: Facilitator hub" in card
        assert re.search(r"B leaves ([\d,]+ (more|fewer)|about the same) older people", card)
        assert "hours of care a week" in card and "full-time care workers" in card
        visit.shot("side-by-side-results-1280x720.png")
        page.click(".civic-pair-keep")
        visit.expect_text(".civic-pair-keep", "Forget kept run")
        # compare with austerity: the kept baseline stays as grey lines
        visit.open_settings()
        visit.choose(".civic-scenario", "Austerity")
        visit.expect_week(0, a)
        page.click(".civic-settings-toggle")
        page.click(".civic-pair-step")
        visit.expect_week(1, a)
        assert page.locator(".civic-panels path.kept-line").count() >= 4
        assert "kept: Baseline" in visit.text(".civic-side-legend")
        page.wait_for_selector(".civic-panels .event-marker", timeout=WAIT)
        page.click(".civic-pair-band")
        visit.expect_text(".civic-panels", "other seeds")
        page.click(".civic-pair-run-to")
        page.wait_for_selector(".civic-pair-results", timeout=60_000)
        visit.expect_text(".civic-pair-results", "In the kept run (Baseline")
        visit.expect_text(".civic-side-legend", "10–90% range over 2 other seeds")
        page.wait_for_selector(".civic-panels path.band", timeout=120_000)
        visit.expect_text(".civic-pair-results", "Over 2 other seeds")
        page.click(".civic-pair-hide-results")
        page.wait_for_selector(".civic-pair-results", state="detached", timeout=WAIT)
        page.wait_for_selector(".civic-pair-show-results", timeout=WAIT)
        # "Show results" sits beside the notice, covering neither it nor the map
        show = page.locator(".civic-pair-show-results").bounding_box()
        for other in (".civic-notice", ".civic-side-a-panel svg"):
            box = page.locator(other).first.bounding_box()
            assert (
                show["x"] >= box["x"] + box["width"]
                or show["y"] >= box["y"] + box["height"]
                or box["x"] >= show["x"] + show["width"]
                or box["y"] >= show["y"] + show["height"]
            ), f"Show results covers {other}"
        visit.shot("side-by-side-kept-run-and-band-1280x720.png")
        check_fits(visit, ".civic-view-pair")
        page.click(".civic-pair-show-results")
        page.wait_for_selector(".civic-pair-results", timeout=WAIT)
        assert visit.errors == []
    finally:
        visit.close()


def test_exports_download_the_weekly_csv_and_a_png(visit):
    page = visit.page
    visit.step(3)
    with page.expect_download(timeout=WAIT) as download:
        page.click(".civic-csv")
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    assert download.value.suggested_filename.endswith(".csv")
    weeks = [int(float(r["step"])) for r in rows if float(r["step"]) >= 1]
    assert weeks == [1, 2, 3] and "residents_with_unmet_need" in rows[0]
    with page.expect_download(timeout=WAIT) as download:
        page.click(".civic-png")
    data = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename.endswith("week-3.png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    view = page.locator(".civic-view-workshop").bounding_box()
    assert (width, height) == (
        pytest.approx(2 * view["width"], abs=2),
        pytest.approx(2 * view["height"], abs=2),
    )
    assert len(data) > 30_000  # the map and charts are drawn into it
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / "exported-view.png").write_bytes(data)


class PausableProxy:
    """A TCP proxy to the server that can stop passing data (a wifi that hangs without
    closing the connection) and start again."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(50)
        self.port = self.listener.getsockname()[1]
        self.paused = threading.Event()
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a, b):
        try:
            while not self.stopped.is_set():
                if self.paused.is_set():
                    time.sleep(0.05)
                    continue
                ready, _, _ = select.select([a, b], [], [], 0.1)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    (b if src is a else a).sendall(data)
        except OSError:
            return
        finally:
            a.close()
            b.close()

    def close(self):
        self.stopped.set()
        self.listener.close()


def test_a_lost_connection_shows_a_banner_and_pauses_play(browser, server):
    proxy = PausableProxy(urlparse(server).port)
    visit = Visit(browser, f"http://127.0.0.1:{proxy.port}/", width=1280, height=720)
    try:
        page = visit.page
        page.click(".civic-play")
        visit.wait_week_at_least(3)
        proxy.paused.set()  # the network hangs; nothing arrives either way
        page.wait_for_selector(".civic-connection-lost", timeout=20_000)
        assert "reconnecting" in visit.text(".civic-connection-lost")
        page.wait_for_timeout(10_000)  # the server notices the missing heartbeats too
        proxy.paused.clear()
        page.wait_for_selector(".civic-connection-lost", state="detached", timeout=20_000)
        visit.expect_text(".civic-notice", "connection to this page was lost")
        paused_at = visit.week()
        page.wait_for_timeout(1_500)
        assert visit.week() == paused_at  # nothing ran on unseen
        assert "Play" in visit.text(".civic-play")
        visit.shot("connection-lost-then-back.png")
    finally:
        visit.close()
        proxy.close()


def test_two_browser_sessions_stay_independent(browser, server):
    first, second = Visit(browser, server), Visit(browser, server)
    try:
        first.step(3)
        second.page.wait_for_timeout(500)
        assert second.week() == 0
        second.step(1)
        assert first.week() == 3
        second.open_settings()
        second.choose(".civic-strategy", "Hybrid")
        second.expect_week(0)
        second.expect_text(".civic-map-title", "Hybrid")
        first.expect_text(".civic-map-title", "Direct delivery")
        assert first.week() == 3
    finally:
        first.close()
        second.close()


def test_screenshot_after_some_years(browser, server):
    visit = Visit(browser, server, width=1920, height=1080)
    try:
        page = visit.page
        visit.open_settings()
        visit.choose(".civic-strategy", "Facilitator hub")
        visit.expect_week(0)
        visit.choose(".civic-pace", "Fast")
        page.click(".civic-play")
        visit.wait_week_at_least(104, timeout=60_000)
        page.click(".civic-play")
        page.wait_for_timeout(800)
        path = visit.shot("workshop-1920x1080.png")
        assert path.stat().st_size > 50_000
        assert visit.errors == []
    finally:
        visit.close()
