"""``python -m devserver.vendor_graphiql`` (``make graphiql-assets``): vendors the files Strawberry's GraphiQL page
loads from the CDN, taken from ``node_modules``, into ``devserver/static/graphiql/``.

Run it after upgrading strawberry-graphql: the page names each file as ``package@version/path`` with its integrity
hash. Each package must be pinned at that version in package.json (and installed by ``npm ci``), and each file
must match the page's hash, so the copies are exactly what the CDN serves. The folder is rebuilt from scratch,
with each package's license and a README naming every file's package, version and license.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

from devserver.dynamodb_local import ROOT
from devserver.graphiql import ASSETS_DIR, Asset, integrity_of, page_assets

NODE_MODULES = ROOT / "node_modules"
PACKAGE_JSON = ROOT / "package.json"
LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "license")


class VendoringError(Exception):
    """A file cannot be vendored as the page names it; the message says what to do."""


def vendor(
    html: str, *, package_json: Path = PACKAGE_JSON, node_modules: Path = NODE_MODULES, target: Path = ASSETS_DIR
) -> list[Asset]:
    """Copies every CDN asset of ``html`` from ``node_modules`` into ``target``. Every file is checked first: a
    refusal leaves ``target`` as it was; otherwise ``target`` is emptied and rewritten."""
    assets = page_assets(html)
    if not assets:
        raise VendoringError("the GraphiQL page loads nothing from the CDN: devserver/graphiql.py needs a look")
    pins = json.loads(package_json.read_text()).get("devDependencies", {})
    sources = {asset: _source(asset, pins, node_modules) for asset in assets}
    if target.exists():
        shutil.rmtree(target)
    for asset, source in sources.items():
        destination = target / asset.local_path
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    for package, version in sorted({(asset.package, asset.version) for asset in assets}):
        license_file = _license_file(node_modules / package)
        if license_file is not None:
            shutil.copyfile(license_file, target / f"{package}@{version}" / "LICENSE")
    (target / "README.md").write_text(_readme(assets, node_modules))
    return assets


def _source(asset: Asset, pins: dict[str, str], node_modules: Path) -> Path:
    pinned = pins.get(asset.package)
    if pinned != asset.version:
        raise VendoringError(
            f"the page loads {asset.package}@{asset.version}; package.json pins {asset.package!r} at {pinned!r}: "
            f"pin it with `npm install --save-dev --save-exact {asset.package}@{asset.version}`"
        )
    package_json = node_modules / asset.package / "package.json"
    installed = json.loads(package_json.read_text())["version"] if package_json.exists() else None
    if installed != asset.version:
        raise VendoringError(f"node_modules holds {asset.package} {installed}, not {asset.version}: run `npm ci`")
    source = node_modules / asset.package / asset.path
    if not source.is_file():
        raise VendoringError(f"{asset.package}@{asset.version} has no {asset.path}")
    if asset.integrity and integrity_of(source.read_bytes()) != asset.integrity:
        raise VendoringError(f"{source} does not match the page's integrity hash {asset.integrity}")
    return source


def _license_file(package_dir: Path) -> Path | None:
    return next((package_dir / name for name in LICENSE_NAMES if (package_dir / name).is_file()), None)


def _readme(assets: list[Asset], node_modules: Path) -> str:
    rows = []
    for asset in assets:
        package_dir = node_modules / asset.package
        license_name = json.loads((package_dir / "package.json").read_text()).get("license", "see the package")
        license_text = "`LICENSE` beside it" if _license_file(package_dir) else "in its package.json (no license file)"
        rows.append(
            f"| `{asset.local_path}` | [{asset.package}@{asset.version}](https://www.npmjs.com/package/{asset.package}"
            f"/v/{asset.version}) | {license_name}, {license_text} | `{asset.integrity}` |"
        )
    return "\n".join(
        [
            "# GraphiQL assets",
            "",
            textwrap.fill(
                "The files Strawberry's GraphiQL page loads from unpkg.com, served by the local server under"
                " `/graphiql/` so that the page works offline. Written by `make graphiql-assets` (`python -m"
                " devserver.vendor_graphiql`) from `node_modules`, where package.json pins each package at the"
                " version the page names; each file matches the page's integrity hash, which the browser checks."
                " Do not edit: rerun after upgrading strawberry-graphql.",
                width=120,
            ),
            "",
            "| file | package | license | integrity |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )


def main() -> int:
    try:
        assets = vendor(get_graphql_ide_html("graphiql"))
    except VendoringError as error:
        print(f"Cannot vendor the GraphiQL assets: {error}", file=sys.stderr)
        return 1
    for asset in assets:
        print(f"vendored {asset.local_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
