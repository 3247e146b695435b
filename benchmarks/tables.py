"""Plain text for the benchmarks' output: tables, counts of things, the invariant violations found."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SHOWN_VIOLATIONS = 20


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[str]], align: str) -> None:
    """A plain-text table; ``align`` has one letter per column: l(eft) or r(ight)."""
    body = [list(row) for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *body, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if side == "r" else cell.ljust(width)
            for cell, width, side in zip(cells, widths, align, strict=True)
        ).rstrip()

    print(f"\n{title}\n")
    print(line(headers))
    print(line(["-" * width for width in widths]))
    for row in body:
        print(line(row))


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def print_violations(violations: Sequence[str]) -> None:
    """The first SHOWN_VIOLATIONS, one a line, then how many more there are."""
    for line in violations[:SHOWN_VIOLATIONS]:
        print(f"  VIOLATION {line}")
    if len(violations) > SHOWN_VIOLATIONS:
        print(f"  ... and {len(violations) - SHOWN_VIOLATIONS} more")
