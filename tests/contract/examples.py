"""The example operations of examples/*.graphql, as the tests use them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, parse

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
_VARIABLES = re.compile(r"^# Variables: (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Example:
    name: str  # the file name without .graphql
    document: str
    variables: dict[str, Any]  # the sample given in the file's "# Variables:" comment
    operation: OperationDefinitionNode

    @property
    def root_fields(self) -> list[str]:
        return [node.name.value for node in self.operation.selection_set.selections if isinstance(node, FieldNode)]


@cache
def examples() -> dict[str, Example]:
    found = {}
    for path in sorted(EXAMPLES_DIR.glob("*.graphql")):
        text = path.read_text()
        match = _VARIABLES.search(text)
        assert match, f"{path.name} has no '# Variables: {{...}}' line"
        (operation,) = parse(text).definitions
        assert isinstance(operation, OperationDefinitionNode), path.name
        found[path.stem] = Example(path.stem, text, json.loads(match.group(1)), operation)
    return found


def document(name: str) -> str:
    return examples()[name].document
