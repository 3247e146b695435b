"""The contention benchmark (``python -m benchmarks.contention``, run by ``make bench`` after the load test).

One SKU, many writers. DynamoDB Local is started on a free port with a fresh table; the item starts with stock at
MAIN and at a second location. Then client threads (16 for 10 s by default), released together, drive the Lambda
handlers with AppSync events: one receives stock wherever the item runs low, the others check out (reserveStock,
then commitReservation or releaseReservation) or order directly (fulfillOrder), at either location. Every write
lands on the one item record, so they all contend.

It prints successes per second by operation, DynamoDB TransactWriteItems attempts per success (counted on the
client with botocore's event hooks: a cancelled transaction is an attempt), p50/p99 latency and the errors by
errorType. Then it reads the item, all its movements and every reservation back through the handlers and checks
that onHand is the sum of the movement deltas (in total and per location) with each running total right, that the
sequence has no gap, that no unit was sold twice (each committed reservation and each order made exactly its SOLD
movements, once; nothing else sold), that the units held are exactly those of the ACTIVE reservations and never
more than onHand (also sampled during the run). An InternalError, an unexpected errorType or a broken invariant
makes it exit 1.

Modules: ``meter`` (TransactWriteItems attempts by operation), ``clients`` (a Lambda container per thread, the
clients' requests, the ledger of what they were told), ``invariants`` (the check, pure), ``run`` (one run),
``report`` (figures and verdict). Shared with the load test: ``benchmarks.driver`` (the client threads) and
``benchmarks.outcomes`` (a request's outcome, percentiles).
"""
