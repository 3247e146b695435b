"""Page tokens: opaque (encrypted), authenticated, scoped, and refused as a ValidationError whenever we did not issue
them as they are; without a secret (a function that serves no pages) neither issued nor opened."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from inventory.config import ConfigurationError
from inventory.errors import ValidationError
from inventory.tokens import PageTokens
from tests.conftest import TEST_SECRET

SCOPE = "items:[null, null, false]"
KEY = {"pk": "ITEM#42", "sk": "ITEM", "listAll": "ITEM", "sku": "SKU-é-1"}


@pytest.fixture
def tokens() -> PageTokens:
    return PageTokens(TEST_SECRET.encode())


def refusal(tokens: PageTokens, token: str, scope: str = SCOPE) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        tokens.open(token, scope)
    assert caught.value.error_type == "ValidationError"
    return caught.value.info


def decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_an_issued_token_opens_to_the_key_it_carries(tokens: PageTokens) -> None:
    assert tokens.open(tokens.issue(SCOPE, KEY), SCOPE) == KEY


def test_a_token_opens_in_another_instance_with_the_same_secret(tokens: PageTokens) -> None:
    """Survives restarts and cold starts: nothing but the secret is needed to open it."""
    assert PageTokens(TEST_SECRET.encode()).open(tokens.issue(SCOPE, KEY), SCOPE) == KEY


def test_a_token_is_url_safe_text_without_padding(tokens: PageTokens) -> None:
    token = tokens.issue(SCOPE, KEY)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_token_shows_nothing_of_what_it_carries(tokens: PageTokens) -> None:
    """Not the key's names, the table's key prefixes, the item id or the sku: only random-looking bytes."""
    item_id = "3f0c2a9e-1b7d-4c55-9a0e-8d2f6b1c4e70"
    key = {"pk": f"ITEM#{item_id}", "sk": "ITEM", "listAll": "ITEM", "sku": "SKU-0042"}
    # A fixed nonce makes the bytes reproducible, so even two-letter names are checked without a flaky draw.
    fixed = PageTokens(TEST_SECRET.encode(), random_bytes=lambda size: bytes(range(size))).issue(SCOPE, key)
    for hidden in ("pk", "sk", "ITEM#", "ITEM", item_id, item_id[:8], "SKU-0042", "listAll"):
        assert hidden.encode() not in decode(fixed)
    assert "ITEM" not in fixed and item_id[:8] not in fixed
    for _ in range(20):  # random nonces: strings of 4+ bytes appear by chance with odds of about 2**-24
        raw = decode(tokens.issue(SCOPE, key))
        for hidden in ("ITEM#", "ITEM", item_id[:8], "SKU-0042", "listAll"):
            assert hidden.encode() not in raw


def test_the_same_key_gives_a_new_token_each_time(tokens: PageTokens) -> None:
    first, second = tokens.issue(SCOPE, KEY), tokens.issue(SCOPE, KEY)
    assert first != second
    assert tokens.open(first, SCOPE) == tokens.open(second, SCOPE) == KEY


def test_a_token_with_any_single_bit_flipped_is_refused(tokens: PageTokens) -> None:
    raw = decode(tokens.issue(SCOPE, KEY))
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert refusal(tokens, encode(bytes(flipped))) == {
            "field": "nextToken",
            "reason": "is not a token this API issued",
        }


@pytest.mark.parametrize("cut", [1, 16, 17, -1, -16])
def test_a_truncated_or_extended_token_is_refused(tokens: PageTokens, cut: int) -> None:
    raw = decode(tokens.issue(SCOPE, KEY))
    assert refusal(tokens, encode(raw[:cut]))["field"] == "nextToken"
    assert refusal(tokens, encode(raw + bytes(abs(cut))))["field"] == "nextToken"


def test_a_token_of_the_former_signed_plaintext_format_is_refused(tokens: PageTokens) -> None:
    payload = b'{"k":{"pk":"ITEM#42","sk":"ITEM"},"s":"items:[null, null, false]"}'
    signature = hmac.new(TEST_SECRET.encode(), payload, hashlib.sha256).digest()[:16]
    assert refusal(tokens, encode(signature + payload))["field"] == "nextToken"


@pytest.mark.parametrize("position", [0, 10, 30, -5])
def test_a_token_with_one_character_changed_is_refused(tokens: PageTokens, position: int) -> None:
    token = tokens.issue(SCOPE, KEY)
    index = position % len(token)  # not the last character, whose low bits may be padding
    altered = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    assert altered != token
    assert refusal(tokens, altered)["field"] == "nextToken"


def test_a_token_with_a_tag_made_by_nobody_is_refused(tokens: PageTokens) -> None:
    raw = decode(tokens.issue(SCOPE, KEY))
    assert refusal(tokens, encode(raw[:-16] + bytes(16)))["field"] == "nextToken"


def test_a_token_of_another_scope_is_refused(tokens: PageTokens) -> None:
    token = tokens.issue('items:["tools", null, false]', KEY)
    info = refusal(tokens, token, scope=SCOPE)
    assert info["field"] == "nextToken"
    assert "another listing" in info["reason"]


def test_a_movements_token_is_refused_for_another_item(tokens: PageTokens) -> None:
    token = tokens.issue("movements:item-1", KEY)
    assert refusal(tokens, token, scope="movements:item-2")["field"] == "nextToken"


@pytest.mark.parametrize(
    "garbage",
    ["", "a", "not a token", "!!!!", "é", "eyJzIjoiaXRlbXMiLCJrIjp7fX0", "A" * 200, "%00%00"],
)
def test_garbage_is_refused_as_a_validation_error(tokens: PageTokens, garbage: str) -> None:
    assert refusal(tokens, garbage) == {"field": "nextToken", "reason": "is not a token this API issued"}


def test_a_token_signed_with_another_secret_is_refused(tokens: PageTokens) -> None:
    foreign = PageTokens(b"another-secret-of-32-characters!").issue(SCOPE, KEY)
    assert refusal(tokens, foreign)["field"] == "nextToken"


def test_the_refusal_names_the_argument_path_it_was_given(tokens: PageTokens) -> None:
    with pytest.raises(ValidationError) as caught:
        tokens.open("garbage", SCOPE, path="movements.nextToken")
    assert caught.value.info["field"] == "movements.nextToken"


def test_without_a_secret_no_token_is_issued_or_opened_and_the_deployment_is_blamed(tokens: PageTokens) -> None:
    # Not a ValidationError: the client's token may be genuine, this function was set up to serve no pages.
    unkeyed = PageTokens(None)
    with pytest.raises(ConfigurationError, match="no page-token secret is configured") as issuing:
        unkeyed.issue(SCOPE, KEY)
    with pytest.raises(ConfigurationError, match="no page-token secret is configured") as opening:
        unkeyed.open(tokens.issue(SCOPE, KEY), SCOPE)
    assert "INVENTORY_PAGE_TOKEN_SECRET" in str(issuing.value) and "INVENTORY_PAGE_TOKEN_SECRET" in str(opening.value)
