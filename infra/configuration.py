"""Parameter Store and Secrets Manager: the API's settings and the page-token secret the functions read, and the
values published for other services (table name, GraphQL URL)."""

from __future__ import annotations

from dataclasses import asdict

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import ApiSettings
from infra.nag import suppress
from inventory.config import PARAMETER_VARIABLES


class Configuration(Construct):
    """``<path>/config/<name>``: one String parameter per API setting (the names inventory/config.py reads);
    ``<path>/<name>``: values published for other services; and a generated secret that seals page tokens."""

    def __init__(self, scope: Construct, construct_id: str, *, path: str, settings: ApiSettings) -> None:
        super().__init__(scope, construct_id)
        self._path = path
        self.settings_path = f"{path}/config"  # read with GetParametersByPath, which is authorized on the path itself
        values = {name.replace("_", "-"): str(value) for name, value in asdict(settings).items()}
        if set(values) != set(PARAMETER_VARIABLES):
            raise ValueError(f"ApiSettings {sorted(values)} do not match the settings the API reads")
        for name, value in values.items():
            ssm.StringParameter(
                self,
                f"Setting-{name}",
                parameter_name=f"{self.settings_path}/{name}",
                string_value=value,
                description=f"Inventory API setting {name} (read by the resolver functions, cached)",
            )

        self.page_token_secret = secretsmanager.Secret(
            self,
            "PageTokenSecret",
            description="Key from which the inventory API derives its nextToken encryption and MAC keys; replacing it "
            "invalidates every outstanding token.",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        suppress(
            self.page_token_secret,
            "AwsSolutions-SMG4",
            "The secret only seals pagination tokens (their privacy and integrity; it opens no data) and a rotation "
            "invalidates the tokens clients hold; it is rotated by hand when needed (README), not on a schedule.",
        )

    @property
    def settings_path_arn(self) -> str:
        return Stack.of(self).format_arn(service="ssm", resource="parameter", resource_name=self.settings_path[1:])

    def grant_read_settings(self, grantee: iam.IGrantable) -> None:
        """Read the settings (by path), nothing else."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["ssm:GetParametersByPath"], resources=[self.settings_path_arn])
        )

    def grant_secret_only_to(self, *roles: iam.IRole) -> None:
        """Let these roles read the page-token secret, and deny reading its value to every other principal, whatever
        its IAM policies say. Called once: a second call would add a second deny, leaving nobody able to read it."""
        for role in roles:
            self.page_token_secret.grant_read(role)
        self.page_token_secret.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["secretsmanager:GetSecretValue"],
                resources=["*"],
                conditions={"StringNotEquals": {"aws:PrincipalArn": [role.role_arn for role in roles]}},
            )
        )

    def publish(self, name: str, value: str, description: str) -> ssm.StringParameter:
        """A value other services read at ``<path>/<name>``."""
        return ssm.StringParameter(
            self,
            f"Published-{name}",
            parameter_name=f"{self._path}/{name}",
            string_value=value,
            description=description,
        )
