"""`make codegen` as a frontend runs it: graphql-codegen over schema.graphql + appsync.graphql and examples/, then
the TypeScript compiler in strict mode over the output and over code that uses it as a frontend would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.contract.examples import examples
from tests.graphql_schema import ROOT

BIN = ROOT / "node_modules" / ".bin"
TIMEOUT_SECONDS = 300

# How a frontend uses the types; `@ts-expect-error` marks what must not compile, so a scalar typed `any` or an enum
# typed `string` fails the check as surely as a missing type does.
USAGE = """
import type { ItemStatus, ListItemsQuery, MovementReason, Scalars } from "./graphql";

type ListedItem = ListItemsQuery["listItems"]["items"][number];
const item: ListedItem = {
  id: "item-1", sku: "SKU-1", name: "Drill", description: null, category: "power-tools", price: 9.99, quantity: 3,
  reorderPoint: 1, status: "AVAILABLE", lowStock: false, version: 1,
  createdAt: "2024-05-01T12:30:00.000Z", updatedAt: "2024-05-01T12:30:00.000Z",
};
// @ts-expect-error AWSDateTime is a string
const createdAt: ListedItem["createdAt"] = 1714566600;
// @ts-expect-error a nullable field is present, null when empty
const missingDescription: ListedItem = { ...item, description: undefined };
// @ts-expect-error ItemStatus holds the schema's values only
const status: ItemStatus = "SOLD_OUT";
const reason: MovementReason = "RECEIVED";
const timestamp: Scalars["AWSTimestamp"]["output"] = 1714566600;
// @ts-expect-error AWSTimestamp is a number of seconds
const timestampText: Scalars["AWSTimestamp"]["output"] = "1714566600";
const json: Scalars["AWSJSON"]["input"] = '{"a": 1}';
export { item, createdAt, missingDescription, status, reason, timestamp, timestampText, json };
"""


def _run(command: list[str], **environment: str) -> None:
    if not Path(command[0]).exists():
        pytest.fail(f"{command[0]} is missing: run `make setup` (npm ci) first")
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"


def _operation_types() -> str:
    """A type alias naming the result and variables types of every example operation, as graphql-codegen names
    them (ListItems + Query, ListItems + QueryVariables)."""
    names = []
    for example in examples().values():
        assert example.operation.name is not None, f"examples/{example.name}.graphql: name the operation"
        kind = example.operation.operation.value.capitalize()
        names += [f"{example.operation.name.value}{kind}", f"{example.operation.name.value}{kind}Variables"]
    imports = f"import type {{ {', '.join(names)} }} from './graphql';\n"
    return imports + f"export type EveryOperation = [{', '.join(names)}];\n"


def test_generated_types_cover_every_example_and_pass_strict_type_checking(tmp_path: Path) -> None:
    output = tmp_path / "graphql.ts"
    _run([str(BIN / "graphql-codegen"), "--config", "codegen.ts"], CODEGEN_OUTPUT=str(output))
    assert output.exists()
    (tmp_path / "usage.ts").write_text(USAGE)
    (tmp_path / "operations.ts").write_text(_operation_types())

    files = [str(tmp_path / name) for name in ("graphql.ts", "usage.ts", "operations.ts")]
    _run([str(BIN / "tsc"), "--noEmit", "--strict", "--module", "preserve", "--moduleResolution", "bundler", *files])
