"""Settings from the environment (and the deployed functions' Parameter Store values and secret): the page-token secret
is required where a function serves pages, optional where it does not (the expiry handler), validated when given."""

from __future__ import annotations

import pytest

from inventory.config import PAGE_TOKEN_SECRET_VARIABLE, ConfigurationError, Settings
from tests.conftest import TEST_SECRET

TABLE = {"INVENTORY_TABLE_NAME": "inventory"}


@pytest.mark.parametrize("secret", [None, ""])
def test_a_function_that_serves_pages_fails_at_start_without_the_secret(secret: str | None) -> None:
    env = TABLE if secret is None else {**TABLE, PAGE_TOKEN_SECRET_VARIABLE: secret}
    with pytest.raises(ConfigurationError, match=f"^{PAGE_TOKEN_SECRET_VARIABLE} is not set$"):
        Settings.from_env(env)
    with pytest.raises(ConfigurationError, match=f"^{PAGE_TOKEN_SECRET_VARIABLE} is not set$"):
        Settings.from_sources(env, {}, None)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_function_that_serves_no_pages_starts_without_the_secret(secret: str | None) -> None:
    env = TABLE if secret is None else {**TABLE, PAGE_TOKEN_SECRET_VARIABLE: secret}

    assert Settings.from_env(env, serves_pages=False) == Settings(table_name="inventory", page_token_secret=None)
    assert Settings.from_sources(env, {"max-page-size": "50"}, None, serves_pages=False) == Settings(
        table_name="inventory", page_token_secret=None, max_page_size=50
    )


def test_a_secret_given_to_a_function_that_serves_no_pages_is_kept_and_validated() -> None:
    kept = Settings.from_sources(TABLE, {}, TEST_SECRET, serves_pages=False)

    assert kept.page_token_secret == TEST_SECRET.encode()
    with pytest.raises(ConfigurationError, match=f"^{PAGE_TOKEN_SECRET_VARIABLE} must be at least 16 characters$"):
        Settings.from_env({**TABLE, PAGE_TOKEN_SECRET_VARIABLE: "too-short"}, serves_pages=False)


def test_a_secret_from_secrets_manager_overrides_the_environment_and_is_validated() -> None:
    env = {**TABLE, PAGE_TOKEN_SECRET_VARIABLE: "from-the-environment-0123456789"}

    assert Settings.from_sources(env, {}, TEST_SECRET).page_token_secret == TEST_SECRET.encode()
    with pytest.raises(ConfigurationError, match="at least 16 characters"):
        Settings.from_sources(env, {}, "too-short")
