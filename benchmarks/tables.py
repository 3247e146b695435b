"""Plain-text tables for the benchmarks' output."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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
