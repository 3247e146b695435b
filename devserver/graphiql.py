"""GraphiQL served entirely by the local server, so that it works offline and behind proxies.

The page is Strawberry's, whose scripts and stylesheets come from a public CDN (unpkg.com): they are served instead
from the copies vendored in ``devserver/static/graphiql/`` (``make graphiql-assets``), one folder per
``package@version`` as in the CDN's URLs. The page keeps its ``integrity`` hashes, so the browser checks that each
local copy is the very file the CDN serves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_URL = "/graphiql"
CDN = "https://unpkg.com/"

_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.DOTALL)
_CDN_URL = re.compile(
    r'(?:src|href)="' + re.escape(CDN) + r'(?P<package>(?:@[^/@"]+/)?[^/@"]+)@(?P<version>[^/"]+)/(?P<path>[^"]+)"'
)
_INTEGRITY = re.compile(r'integrity="(?P<integrity>[^"]+)"')


@dataclass(frozen=True)
class Asset:
    """A file the page loads from the CDN: ``package@version/path`` with the page's integrity hash."""

    package: str
    version: str
    path: str
    integrity: str

    @property
    def local_path(self) -> str:
        """Where it is vendored, under ``ASSETS_DIR``, and served, under ``ASSETS_URL``."""
        return f"{self.package}@{self.version}/{self.path}"


def page_assets(html: str) -> list[Asset]:
    """The CDN files a page's ``<script>`` and ``<link>`` tags load."""
    assets = []
    for tag in _TAG.findall(html):
        url = _CDN_URL.search(tag)
        if url is None:
            continue
        integrity = _INTEGRITY.search(tag)
        assets.append(Asset(**url.groupdict(), integrity=integrity.group("integrity") if integrity else ""))
    return assets


def integrity_of(content: bytes) -> str:
    """The Subresource Integrity value of ``content`` in the form the page uses (sha384, base64)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def graphiql_page(html: str, api_key: str | None) -> str:
    """Strawberry's GraphiQL page loading its assets from this server, with the API key filled in for HTTP requests
    and websocket connections, and an example operation as the first query."""
    html = html.replace(CDN, f"{ASSETS_URL}/")
    if api_key is not None:
        key = json.dumps({"x-api-key": api_key})
        html = html.replace("const defaultHeaders = {};", f"const defaultHeaders = {key};", 1)
        html = html.replace("subscriptionUrl,\n", f"subscriptionUrl,\n        wsConnectionParams: {key},\n", 1)
    return html.replace("parameters.q || EXAMPLE_QUERY", f"parameters.q || {json.dumps(FIRST_QUERY)}", 1)


FIRST_QUERY = """# The local mirror of the inventory API. Run with Ctrl-Enter; examples/*.graphql holds every operation.
query ListItems($filter: ItemFilter, $limit: Int, $nextToken: String) {
  listItems(filter: $filter, limit: $limit, nextToken: $nextToken) {
    items {
      id
      sku
      name
      category
      price
      quantity
      reorderPoint
      status
      lowStock
      movements(limit: 3) {
        items {
          delta
          reason
          quantityAfter
          createdAt
        }
      }
    }
    nextToken
  }
}
"""
