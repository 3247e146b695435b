"""GraphiQL in a real browser (Debian's chromium driven by Playwright) against ``python -m devserver --memory --seed``,
with every request to anything but the server aborted: the page must load, run its first query and show data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route, expect, sync_playwright

from devserver.seed import CATALOGUE
from tests.contract.server import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing of its own on the network (no updates, sync or first-run pages).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Upper bounds for a shared, busy machine, not expectations of speed.
PAGE_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the GraphiQL browser test needs Debian's chromium package "
    "(apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    running = ServerProcess(tmp_path / "data", "--memory", "--seed").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def test_graphiql_runs_its_first_query_offline_and_shows_the_seeded_items(
    server: ServerProcess, browser: Browser, tmp_path: Path
) -> None:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(server.url))
    elsewhere: list[str] = []

    def only_the_server(route: Route) -> None:
        if urlsplit(route.request.url)._replace(path="", query="", fragment="").geturl() == origin:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page = browser.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.route("**/*", only_the_server)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(server.url)
    page.locator(".graphiql-execute-button").click()
    first = min(CATALOGUE, key=lambda item: item.sku)  # listItems answers in sku order
    result = page.locator(".result-window")
    try:
        expect(result).to_contain_text(f'"sku": "{first.sku}"', timeout=PAGE_TIMEOUT_MS)
        expect(result).to_contain_text(f'"name": "{first.name}"')
    finally:
        page.screenshot(path=str(tmp_path / "graphiql.png"))
    assert elsewhere == []
    assert errors == []
