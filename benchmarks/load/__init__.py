"""The load test (``python -m benchmarks.load``, run by ``make bench`` after ``python -m benchmarks``).

It starts the real local server (``python -m devserver`` on DynamoDB Local, in a temporary folder, on a free loopback
port), creates a small catalogue through the API, then runs concurrent clients (32 for 30 s by default) of mixed reads
and writes over HTTP with the API key: getItem, getItemBySku, listItems with nested movements, adjustStock (new keys
and replays), fulfillOrder (several lines, contending on a few hot items, some short of stock), updateItem with
expectedVersion (some stale). It prints requests/s, p50/p99 latency overall and per operation, and the errors by
errorType, then reads every item and all its movements back through the API and checks the stock invariants.

Modules: ``client`` (HTTP), ``workload`` (the requests), ``ledger`` (what the clients were told), ``invariants`` (the
check), ``run`` (one run, server included), ``report`` (figures and verdict). Shared with the contention benchmark:
``benchmarks.driver`` (the client threads) and ``benchmarks.outcomes`` (a request's outcome, percentiles).
"""
