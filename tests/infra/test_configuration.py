"""Parameter Store and Secrets Manager: the API's settings, the values published for other services, the secret."""

from __future__ import annotations

from dataclasses import MISSING, asdict, fields
from typing import Any

from infra.config import ApiSettings
from inventory.config import PARAMETER_VARIABLES, Settings
from tests.infra.conftest import Synthesized


def _parameters(synth: Synthesized) -> dict[str, Any]:
    return {p["Properties"]["Name"]: p["Properties"] for p in synth.resources("AWS::SSM::Parameter").values()}


def test_every_api_setting_is_a_parameter_under_the_environment_path(any_env: Synthesized) -> None:
    path = f"/inventory/{any_env.config.name}/config"
    settings = {name.replace("_", "-"): str(value) for name, value in asdict(any_env.config.api_settings).items()}
    parameters = _parameters(any_env)

    assert {name: p["Value"] for name, p in parameters.items() if name.startswith(f"{path}/")} == {
        f"{path}/{name}": value for name, value in settings.items()
    }
    assert set(settings) == set(PARAMETER_VARIABLES)  # exactly the names the functions read
    assert all(p["Type"] == "String" for p in parameters.values())


def test_the_published_defaults_are_the_functions_own_defaults() -> None:
    """Without a parameter a function falls back to its Settings default; the stack publishes the same values."""
    defaults = {name.name: name.default for name in fields(Settings) if name.default is not MISSING}
    assert asdict(ApiSettings()) == {name: defaults[name] for name in asdict(ApiSettings())}


def test_table_name_and_graphql_url_are_published_for_other_services(any_env: Synthesized) -> None:
    parameters = _parameters(any_env)
    path = f"/inventory/{any_env.config.name}"
    table_id = any_env.one("AWS::DynamoDB::GlobalTable")[0]
    api_id = any_env.one("AWS::AppSync::GraphQLApi")[0]

    assert parameters[f"{path}/table-name"]["Value"] == {"Ref": table_id}
    assert parameters[f"{path}/graphql-url"]["Value"] == {"Fn::GetAtt": [api_id, "GraphQLUrl"]}


def test_the_page_token_secret_is_generated_at_deploy_time(any_env: Synthesized) -> None:
    (_, secret) = any_env.one("AWS::SecretsManager::Secret")
    properties = secret["Properties"]

    assert properties["GenerateSecretString"] == {"ExcludePunctuation": True, "PasswordLength": 64}
    assert "SecretString" not in properties
    assert "Name" not in properties
