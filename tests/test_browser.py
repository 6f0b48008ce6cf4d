"""A real browser (Debian's chromium via Playwright, never downloaded): sign in, ask "What's my A1c?", see the
value and a citation, open the lab chart; screenshots go to artifacts/."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

import fhir_factory as F
from healthcoach.api.app import create_app
from healthcoach.api.testing import SampleServer, free_port, live_server, sample_server
from healthcoach.store.embeddings import Embedder

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.browser


def require_browser() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("HEALTHCOACH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and HEALTHCOACH_REQUIRE_BROWSER=1 (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium); set "
                    "HEALTHCOACH_REQUIRE_BROWSER=1 to fail instead")


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> SampleServer:
    require_browser()
    return sample_server(embedder)


@pytest.fixture(scope="module")
def base_url(server: SampleServer) -> Iterator[str]:
    with live_server(create_app(server.settings, server.bundle)) as url:
        yield url


def test_sign_in_ask_a1c_and_open_lab_chart(server: SampleServer, base_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    latest = server.truths["maria"]["hba1c"]["latest"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{base_url}/ui/")
            page.get_by_label("User name").fill("maria")
            page.get_by_label("Token").fill(server.tokens["maria"])
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("#banner")).to_contain_text("wellness coach, not a doctor")
            expect(page.locator("#whoami")).to_contain_text("Signed in as maria")
            page.locator("#question textarea").fill("What's my A1c?")
            page.locator("#ask").click()
            chat = page.locator("#chat")
            expect(chat).to_contain_text(f"{latest['value']:g} %")
            sources = chat.get_by_text("Sources (")
            expect(sources).to_be_visible()
            sources.first.click()
            expect(chat.get_by_text(f"[1] {latest['date']} · Hemoglobin A1c").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "ui-chat-a1c.png"), full_page=True)

            page.get_by_role("tab", name="Trends").click()
            page.get_by_role("tab", name="Lab trends").click()
            charts = page.get_by_role("img", name="plot visualising")
            expect(charts.first).to_be_visible()
            assert charts.count() == 2  # A1c and cholesterol
            page.screenshot(path=str(ARTIFACTS / "ui-lab-chart.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "ui-chat-a1c.png").stat().st_size > 10_000


def test_local_mode_link_export_download_and_a_hostile_page(server: SampleServer, tmp_path: Path) -> None:
    """Local mode in a real browser: the printed link lets this browser in and downloads the export once; a page
    from another origin that posts a form to /v1/ingest (the issue's attack) stores nothing."""
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    api = server.settings.api.model_copy(update={"local_user": "maria", "port": port})
    app = create_app(server.settings.model_copy(update={"api": api}), server.bundle)
    store = server.bundle.stores.records
    before = store.snapshot("maria")
    pid = str(store.get_user("maria").patient_key).removeprefix("fhir:")  # a fake lab that would be accepted
    with live_server(app, port) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(60_000)
            assert page.goto(f"{url}/ui/").status == 401  # without the link's key
            page.goto(f"{url}/ui/?key={app.state.launch.secret}")
            assert "key=" not in page.url
            expect(page.locator("#whoami")).to_contain_text("maria")
            # An upload reaches the importer (the gate claimed it for this user); a broken file stores nothing.
            broken = tmp_path / "broken.json"
            broken.write_text('{"resourceType": "Bundle", "entry": [')
            page.get_by_role("tab", name="Upload").click()
            page.locator("input[type=file]").first.set_input_files(str(broken))
            page.get_by_role("button", name="Add to my records").click()
            expect(page.get_by_text("Nothing was stored: broken.json: invalid JSON")).to_be_visible()
            page.get_by_role("tab", name="Privacy").click()
            page.get_by_role("button", name="Download my data").click()
            link = page.locator("#export-link a")
            expect(link).to_be_visible()
            with page.expect_download() as download:
                link.click()
            assert download.value.suggested_filename == "healthcoach-export.zip"
            assert download.value.path().stat().st_size > 1000
            assert page.request.get(url + (link.get_attribute("href") or "")).status == 404  # gone once downloaded

            # Another origin (same machine, another port): a form that posts a fake lab to the API.
            evil = tmp_path / "evil.html"
            evil.write_text(f"<form id=f method=post enctype=multipart/form-data action='{url}/v1/ingest'>"
                            "<input type=file name=files></form>")
            hostile = context.new_page()  # the same browser profile: it holds the launch cookie
            with live_server(_static(tmp_path)) as evil_url:
                hostile.goto(f"{evil_url}/evil.html")
                hostile.evaluate("""async ([target, lab]) => {
                    const body = new FormData();
                    body.append('files', new Blob([lab]), 'lab.json');
                    try { await fetch(target, {method: 'POST', body, credentials: 'include', mode: 'no-cors'}); }
                    catch (e) {}
                }""", [f"{url}/v1/ingest", json.dumps(F.a1c("evil", 14.2, "2026-11-01T09:00:00Z", pid=pid))])
                hostile.wait_for_timeout(1000)
        finally:
            browser.close()
    assert store.snapshot("maria") == before


def _static(folder: Path) -> FastAPI:
    from fastapi.staticfiles import StaticFiles

    site = FastAPI()
    site.mount("/", StaticFiles(directory=folder))
    return site
