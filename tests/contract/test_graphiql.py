"""GraphiQL served entirely by the local server: the page asks nothing of another origin, each asset it loads is
served as the very file its integrity hash names, and the vendored folder is what `make graphiql-assets` writes.
(test_graphiql_browser.py loads the page in a real browser.)"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from strawberry.http.ides import get_graphql_ide_html

from devserver.app import create_app
from devserver.graphiql import ASSETS_DIR, ASSETS_URL, integrity_of, page_assets
from devserver.vendor_graphiql import NODE_MODULES, VendoringError, vendor
from inventory.service import InventoryService

KEY = "da2-testtesttesttesttesttest12"
_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.DOTALL)
_URL = re.compile(r'(?:src|href)="([^"]+)"')
_INTEGRITY = re.compile(r'integrity="([^"]+)"')


@pytest.fixture
def client(service: InventoryService) -> Iterator[TestClient]:
    with TestClient(create_app(service, api_key=KEY), base_url="http://127.0.0.1:4000") as test_client:
        yield test_client


def _loaded(page: str) -> list[tuple[str, str | None]]:
    """(URL, integrity) of every script and stylesheet the page loads."""
    loaded = []
    for tag in _TAG.findall(page):
        url, integrity = _URL.search(tag), _INTEGRITY.search(tag)
        if url is not None:
            loaded.append((url.group(1), integrity.group(1) if integrity else None))
    return loaded


def test_the_graphiql_page_loads_nothing_from_another_origin(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"}).text
    loaded = _loaded(page)
    assert len(loaded) == len(page_assets(get_graphql_ide_html("graphiql"))) > 0
    for url, _ in loaded:
        assert url.startswith(f"{ASSETS_URL}/"), url
    assert "unpkg.com" not in page


def test_every_asset_the_page_loads_is_served_as_the_file_its_integrity_names(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"}).text
    for url, integrity in _loaded(page):
        response = client.get(url)  # no API key: the page's assets are public, like the page
        assert response.status_code == 200, url
        assert integrity is not None and integrity_of(response.content) == integrity, url
        expected_type = "text/css" if url.endswith(".css") else "javascript"
        assert expected_type in response.headers["content-type"], url


def test_the_vendored_folder_is_what_make_graphiql_assets_writes(tmp_path: Path) -> None:
    if not (NODE_MODULES / "graphiql").is_dir():
        pytest.fail("node_modules has no graphiql: run `make setup` (npm ci) first")
    vendor(get_graphql_ide_html("graphiql"), target=tmp_path)
    written = {path.relative_to(tmp_path): path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    committed = {path.relative_to(ASSETS_DIR): path.read_bytes() for path in ASSETS_DIR.rglob("*") if path.is_file()}
    assert sorted(written) == sorted(committed)
    assert written == committed, "run `make graphiql-assets` and commit devserver/static/graphiql/"


# vendor() on a small fake package

_CONTENT = b"window.demo = 1;"
_PAGE = f'<script crossorigin src="https://unpkg.com/demo@1.0.0/dist/demo.min.js" integrity="{integrity_of(_CONTENT)}">'


@pytest.fixture
def packages(tmp_path: Path) -> dict[str, Path]:
    """A package.json pinning demo 1.0.0, node_modules holding it, and a target folder already vendored."""
    package_json = tmp_path / "package.json"
    package_json.write_text(json.dumps({"devDependencies": {"demo": "1.0.0"}}))
    demo = tmp_path / "node_modules" / "demo"
    (demo / "dist").mkdir(parents=True)
    (demo / "package.json").write_text(json.dumps({"name": "demo", "version": "1.0.0", "license": "MIT"}))
    (demo / "LICENSE").write_text("MIT License, Demo Authors")
    (demo / "dist" / "demo.min.js").write_bytes(_CONTENT)
    target = tmp_path / "static"
    (target / "old@0.1.0").mkdir(parents=True)
    (target / "old@0.1.0" / "old.js").write_text("old")
    return {"package_json": package_json, "node_modules": tmp_path / "node_modules", "target": target}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_vendoring_copies_each_file_with_its_license_and_names_it_in_a_readme(packages: dict[str, Path]) -> None:
    vendor(_PAGE, **packages)
    files = _files(packages["target"])
    assert sorted(files) == ["README.md", "demo@1.0.0/LICENSE", "demo@1.0.0/dist/demo.min.js"]
    assert files["demo@1.0.0/dist/demo.min.js"] == _CONTENT
    assert "| `demo@1.0.0/dist/demo.min.js` | [demo@1.0.0]" in files["README.md"].decode()
    assert "MIT" in files["README.md"].decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["package_json"].write_text('{"devDependencies": {"demo": "^1.0.0"}}'), "npm install --save-dev"),
        (lambda p: p["package_json"].write_text('{"devDependencies": {}}'), "pins 'demo' at None"),
        (lambda p: (p["node_modules"] / "demo" / "dist" / "demo.min.js").write_text("changed"), "integrity"),
        (
            lambda p: (p["node_modules"] / "demo" / "package.json").write_text('{"version": "1.0.1"}'),
            "holds demo 1.0.1, not 1.0.0: run `npm ci`",
        ),
        (lambda p: (p["node_modules"] / "demo" / "dist" / "demo.min.js").unlink(), "has no dist/demo.min.js"),
    ],
)
def test_vendoring_refuses_a_file_that_is_not_the_pinned_one_and_leaves_the_folder_as_it_was(
    packages: dict[str, Path], change: Callable[[dict[str, Path]], object], message: str
) -> None:
    before = _files(packages["target"])
    change(packages)
    with pytest.raises(VendoringError, match=re.escape(message)):
        vendor(_PAGE, **packages)
    assert _files(packages["target"]) == before
