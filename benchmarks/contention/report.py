"""The contention run in figures (successes per second, TransactWriteItems attempts per success, latency, errors)
and its verdict."""

from __future__ import annotations

import os
import textwrap
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.contention.clients import EXPECTED_REFUSALS
from benchmarks.contention.meter import CONDITION_FAILED, CONFLICT, OTHER
from benchmarks.contention.run import ContentionReport
from benchmarks.outcomes import INTERNAL_ERROR, percentile, unexpected_errors
from benchmarks.tables import plural, print_table, print_violations

ALL = "all writes"
WRITES = ("reserveStock", "commitReservation", "releaseReservation", "fulfillOrder", "adjustStock")


@dataclass(frozen=True)
class Verdict:
    internal_errors: int
    unexpected_errors: Counter[str]  # errorType -> count, InternalError included
    violations: Sequence[str]
    failure: str | None

    @property
    def passed(self) -> bool:
        return not (self.failure or self.unexpected_errors or self.violations)


def verdict(report: ContentionReport) -> Verdict:
    unexpected = unexpected_errors(report.samples, EXPECTED_REFUSALS)
    return Verdict(unexpected[INTERNAL_ERROR], unexpected, report.violations, report.failure)


def attempts_per_success(report: ContentionReport, operations: Sequence[str]) -> float:
    successes = sum(1 for operation, outcome in report.samples if operation in operations and outcome.ok)
    return sum(report.attempts[operation] for operation in operations) / max(1, successes)


def figure_rows(report: ContentionReport) -> list[list[str]]:
    """Per write operation, then all writes together: requests, successes (and per second), refusals, failures,
    TransactWriteItems attempts (per success, and cancelled by why), latency."""
    seconds: defaultdict[str, list[float]] = defaultdict(list)
    answers: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for operation, outcome in report.samples:
        if operation not in WRITES:
            continue
        for name in (operation, ALL):
            seconds[name].append(outcome.seconds)
            kind = (
                "ok"
                if outcome.ok
                else "refused"
                if outcome.error_type in EXPECTED_REFUSALS.get(operation, ())
                else "failed"
            )
            answers[name][kind] += 1
    rows = []
    for name in [*(operation for operation in WRITES if operation in seconds), ALL]:
        operations = WRITES if name == ALL else (name,)
        cancelled: Counter[str] = Counter()
        for (operation, why), count in report.cancelled.items():
            if operation in operations:
                cancelled[why] += count
        times = sorted(seconds[name])
        rows.append(
            [
                name,
                str(len(times)),
                str(answers[name]["ok"]),
                f"{answers[name]['ok'] / report.seconds:.1f}",
                str(answers[name]["refused"]),
                str(answers[name]["failed"]),
                str(sum(report.attempts[operation] for operation in operations)),
                f"{attempts_per_success(report, operations):.2f}",
                str(cancelled[CONDITION_FAILED]),
                str(cancelled[CONFLICT] + cancelled[OTHER]),
                *(f"{percentile(times, share) * 1000:.0f}" for share in (0.5, 0.99)),
                f"{times[-1] * 1000:.0f}",
            ]
        )
    return rows


def print_report(report: ContentionReport, result: Verdict) -> None:
    if report.samples:
        print_figures(report, result)
    if report.failure:
        print(f"\nThe run stopped short: {report.failure}")
    if result.passed:
        print("PASS: no InternalError, no unexpected error, no invariant violation.")
        return
    print(
        f"FAIL: {result.internal_errors} InternalError, unexpected errors {dict(result.unexpected_errors)},"
        f" {len(result.violations)} invariant violations{', stopped short' if report.failure else ''}."
    )


def print_figures(report: ContentionReport, result: Verdict) -> None:
    settings = report.settings
    print_table(
        f"Contention: {plural(settings.clients, 'client')} on one item for {report.seconds:.1f} s, through the Lambda"
        f" handlers on DynamoDB Local (seed {report.seed}; latency in ms)",
        ["operation", "requests", "ok", "ok/s", "refused", "failed", "transactions", "per ok", "lost race",
         "conflict", "p50", "p99", "max"],
        figure_rows(report),
        align="lrrrrrrrrrrrr",
    )  # fmt: skip
    looks = sum(1 for operation, _ in report.samples if operation == "getItem")
    began, ended = report.load_average
    _paragraph(
        f'"transactions": TransactWriteItems calls, a cancelled one included; "lost race": cancelled because a'
        f' condition failed (the item changed since it was read), "conflict": cancelled as TransactionConflict.'
        f" {sum(report.calls.values())} DynamoDB calls in all, {looks} getItem looks by the receiver included."
        f" Machine: {plural(os.cpu_count() or 0, 'core')}, 1-minute load average {began:.1f} as the load began,"
        f" {ended:.1f} as it ended. InternalError: {result.internal_errors}."
    )
    errors = Counter(
        (outcome.error_type, operation) for operation, outcome in report.samples if outcome.error_type is not None
    )
    for (error_type, operation), count in sorted(errors.items()):
        kind = "expected refusal" if error_type in EXPECTED_REFUSALS.get(operation, ()) else "FAILURE"
        print(f"  {error_type} on {operation}: {count} ({kind})")
    if report.final is not None and report.totals is not None:
        final = report.final
        _paragraph(
            f"Check through the API: onHand {final.item['onHand']}, reserved {final.item['reserved']},"
            f" {plural(len(final.movements), 'movement')}, {plural(len(final.reservations), 'reservation')};"
            f" {report.totals.sold} units sold by SOLD movements, {report.totals.taken} taken by committed reservations"
            " and orders. onHand = sum of movement deltas (in total and per location, each running total right),"
            " sequence gapless, every committed reservation and order sold its units exactly once and nothing else"
            " sold, reserved = the ACTIVE reservations' units <= onHand at every location (also during the run):"
            f" {len(result.violations)} violations."
        )
    print_violations(result.violations)


def _paragraph(text: str) -> None:
    print("\n" + textwrap.fill(text, width=120))
