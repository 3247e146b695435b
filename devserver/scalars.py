"""How the local server checks AppSync's scalars: the coercion AppSync applies to each, by scalar name. Their
declarations (name, description) are appsync.graphql's; a scalar without an entry here passes values through."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLError

# Extended ISO 8601, as AppSync accepts it: seconds and 1 to 9 fraction digits optional, the offset required.
_AWS_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)")


def aws_date_time(value: object) -> str:
    if not isinstance(value, str) or not _AWS_DATE_TIME.fullmatch(value):
        raise GraphQLError(f"AWSDateTime cannot represent {value!r}: expected an extended ISO 8601 date and time.")
    return value


# Each serializes results and parses variables alike; literals go through it too (graphql-core's default).
COERCIONS: Mapping[str, Callable[[Any], Any]] = {"AWSDateTime": aws_date_time}
