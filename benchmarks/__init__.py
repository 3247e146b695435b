"""Benchmarks of the inventory API (not tests: they print figures and assert only that every operation succeeded).

``python -m benchmarks`` (``make bench``) from the repository root prints two tables:

- per GraphQL operation, driven through the Lambda handlers against Amazon DynamoDB Local: the DynamoDB calls by
  API name and the capacity units DynamoDB reports for them;
- the cold import cost of the Lambda code (``resolvers.handlers`` plus building the service) against the floor of
  ``import boto3; boto3.client("dynamodb")``, and which imports make up the difference.

docs/data-model.md quotes these figures. ``make bench`` then runs the load test, ``python -m benchmarks.load``
(benchmarks/load/): concurrent clients against the local server on DynamoDB Local, and an invariant check of the stock.
"""
