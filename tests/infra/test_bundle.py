"""The Lambda code asset: the domain package and the resolvers, and nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infra.functions import BUNDLE_PACKAGES
from tests.infra.conftest import ROOT, Synthesized

# Modules that must never load in the function: the local server, test and CDK tooling.
FOREIGN_MODULES = {
    "strawberry",
    "graphql",
    "aws_cdk",
    "constructs",
    "jsii",
    "cdk_nag",
    "moto",
    "tests",
    "devserver",
    "infra",
    "appsync_events",
}


def _bundle(synth: Synthesized) -> Path:
    """The staged asset directory both functions deploy."""
    keys = {f["Properties"]["Code"]["S3Key"] for f in synth.resources("AWS::Lambda::Function").values()}
    (key,) = keys  # one asset, shared by the two functions
    return synth.assembly_dir / f"asset.{key.removesuffix('.zip')}"


def _files(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file()}


def test_the_bundle_holds_only_the_domain_package_and_the_resolvers(dev: Synthesized) -> None:
    bundle = _bundle(dev)
    listing = sorted(_files(bundle))
    print("\n".join(listing))  # the listing, for the record (pytest -s)

    assert sorted(path.name for path in bundle.iterdir()) == sorted(BUNDLE_PACKAGES) == ["inventory", "resolvers"]
    assert all(name.endswith(".py") for name in listing)
    sources = {
        str(path.relative_to(ROOT))
        for package in BUNDLE_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert set(listing) == sources


def test_the_bundle_imports_its_handlers_the_stream_and_the_expiry_handlers_without_tests_local_server_or_cdk(
    dev: Synthesized,
) -> None:
    bundle = _bundle(dev)
    script = (
        "import json, sys; import resolvers.handlers as h; import resolvers.stream, resolvers.expiry; "
        "print(json.dumps({'file': h.__file__, 'modules': sorted({m.split('.')[0] for m in sys.modules})}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=bundle, env=env, capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)

    assert Path(loaded["file"]).resolve().is_relative_to(bundle.resolve())
    assert FOREIGN_MODULES & set(loaded["modules"]) == set()


def test_every_environment_deploys_the_same_code(dev: Synthesized, prod: Synthesized) -> None:
    assert _bundle(dev).name == _bundle(prod).name
