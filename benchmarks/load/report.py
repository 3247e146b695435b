"""The load run in figures (throughput, latency per operation, answers by errorType) and its verdict."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.load.client import NO_ERROR_TYPE, TRANSPORT_ERROR
from benchmarks.load.run import LoadReport
from benchmarks.load.workload import EXPECTED_REFUSALS
from benchmarks.outcomes import INTERNAL_ERROR, percentile, unexpected_errors
from benchmarks.tables import plural, print_table, print_violations

ALL = "all operations"
SHOWN_LOG_LINES = 60


@dataclass(frozen=True)
class Verdict:
    internal_errors: int
    transport_errors: int
    unexpected_errors: Counter[str]  # errorType -> count, for answers no correct server gives under this load
    violations: Sequence[str]
    processes_left: Sequence[str]
    failure: str | None

    @property
    def passed(self) -> bool:
        return not (
            self.failure
            or self.internal_errors
            or self.transport_errors
            or self.unexpected_errors
            or self.violations
            or self.processes_left
        )


def verdict(report: LoadReport) -> Verdict:
    unexpected = unexpected_errors(report.samples, EXPECTED_REFUSALS)
    return Verdict(
        internal_errors=unexpected[INTERNAL_ERROR],
        transport_errors=unexpected[TRANSPORT_ERROR],
        unexpected_errors=unexpected,
        violations=report.violations,
        processes_left=report.processes_left,
        failure=report.failure,
    )


def latency_rows(report: LoadReport) -> list[list[str]]:
    by_operation: defaultdict[str, list[float]] = defaultdict(list)
    answers: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for operation, outcome in report.samples:
        for name in (operation, ALL):
            by_operation[name].append(outcome.seconds)
            answers[name][outcome.error_type or "ok"] += 1
    rows = []
    for name in sorted(by_operation, key=lambda name: (name == ALL, name)):
        seconds = sorted(by_operation[name])
        ok = answers[name]["ok"]
        refused = sum(count for kind, count in answers[name].items() if kind in EXPECTED_REFUSALS.get(name, ()))
        if name == ALL:
            refused = sum(
                1
                for operation, outcome in report.samples
                if outcome.error_type in EXPECTED_REFUSALS.get(operation, frozenset())
            )
        failed = len(seconds) - ok - refused
        rows.append(
            [
                name,
                str(len(seconds)),
                f"{len(seconds) / report.seconds:.1f}",
                str(ok),
                str(refused),
                str(failed),
                *(f"{percentile(seconds, share) * 1000:.0f}" for share in (0.5, 0.99)),
                f"{seconds[-1] * 1000:.0f}",
            ]
        )
    return rows


def error_rows(report: LoadReport) -> list[list[str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for operation, outcome in report.samples:
        if outcome.error_type is not None:
            counts[(outcome.error_type, operation)] += 1
    return [
        [
            error_type,
            operation,
            str(count),
            "expected refusal" if error_type in EXPECTED_REFUSALS.get(operation, ()) else "FAILURE",
        ]
        for (error_type, operation), count in sorted(counts.items())
    ]


def print_report(report: LoadReport, result: Verdict) -> None:
    if report.samples:
        print_figures(report, result)
    if report.failure:
        print(f"\nThe run stopped short: {report.failure}")
    for command in result.processes_left:
        print(f"  LEFT RUNNING after the server stopped: {command}")
    if result.passed:
        print("PASS: no InternalError, no transport error, no unexpected error, no invariant violation.")
        return
    print(
        f"FAIL: {result.internal_errors} InternalError, {result.transport_errors} transport errors"
        f" ({TRANSPORT_ERROR}: no GraphQL answer; {NO_ERROR_TYPE}: an error without errorType),"
        f" unexpected errors {dict(result.unexpected_errors)}, {len(result.violations)} invariant violations,"
        f" {len(result.processes_left)} processes left running{', stopped short' if report.failure else ''}."
    )
    tail = report.server_log.splitlines()[-SHOWN_LOG_LINES:]
    print("The server's output (last lines):\n" + "\n".join(f"  | {line}" for line in tail))


def print_figures(report: LoadReport, result: Verdict) -> None:
    settings, ledger = report.settings, report.ledger
    total = len(report.samples)
    print_table(
        f"Load test: {plural(settings.clients, 'client')} for {report.seconds:.1f} s against the local server on"
        f" {'--memory (moto)' if settings.memory else 'DynamoDB Local'}"
        f" ({total} requests, {total / report.seconds:.1f} requests/s; latency in ms, seed {report.seed})",
        ["operation", "requests", "per s", "ok", "refused", "failed", "p50", "p99", "max"],
        latency_rows(report),
        align="lrrrrrrrr",
    )
    began, ended = report.load_average
    print(
        f"\nMachine: {plural(os.cpu_count() or 0, 'core')}; 1-minute load average {began:.1f} as the load began,"
        f" {ended:.1f} as it ended."
    )
    rows = error_rows(report)
    if rows:
        print_table("GraphQL errors by errorType", ["errorType", "operation", "count", "kind"], rows, align="llrl")
    print(
        f"\nAcknowledged: {len(ledger.adjustments)} adjustStock, {len(ledger.orders)} fulfillOrder,"
        f" {sum(map(len, ledger.updates.values()))} updateItem; refused: {len(ledger.refused_adjustments)} adjustStock,"
        f" {len(ledger.refused_orders)} fulfillOrder; without a clear answer: {len(ledger.unanswered_adjustments)}"
        f" adjustStock, {len(ledger.unanswered_orders)} fulfillOrder, {sum(ledger.unanswered_updates.values())}"
        " updateItem."
    )
    print(
        f"Invariant check through the API: {report.items_checked} items, {report.movements_checked} movements read"
        " back; quantity = initial + sum of movement deltas, never negative, each quantityAfter the running total;"
        " every acknowledged idempotencyKey and orderId made exactly its movements once, refused ones none; one"
        f" version per acknowledged updateItem: {len(result.violations)} violations."
    )
    print_violations(result.violations)
