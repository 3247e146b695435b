"""``python -m benchmarks``: DynamoDB calls and capacity per GraphQL operation (benchmarks/operations.py), then cold
import time (benchmarks/imports.py)."""

from __future__ import annotations

import os
import platform
from importlib import metadata

from benchmarks.environment import FAKE_AWS, SERVICE_ENV
from benchmarks.imports import report_imports
from benchmarks.operations import report_operations


def main() -> None:
    os.environ.update(FAKE_AWS | SERVICE_ENV)
    os.environ.pop("AWS_PROFILE", None)
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("boto3", "aws-lambda-powertools"))
    print(f"Inventory API benchmark: Python {platform.python_version()}, {versions}")
    report_operations()
    report_imports()


if __name__ == "__main__":
    main()
