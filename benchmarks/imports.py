"""Part 2 of ``make bench``: the cold import time of the Lambda code against the floor of ``import boto3;
boto3.client("dynamodb")``, in fresh interpreters (interleaved, median of many), then the difference attributed with
``python -X importtime``."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from benchmarks.environment import FAKE_AWS, ROOT, SERVICE_ENV
from benchmarks.tables import print_table

IMPORT_RUNS = 25
ATTRIBUTION_RUNS = 5
TARGET_RATIO = 1.2
TREE_CUTOFF_MS = 4.0
FLOOR = ("floor: import boto3; boto3.client('dynamodb')", 'import boto3\nboto3.client("dynamodb")')
LAMBDA = (
    "import resolvers.handlers + runtime.service()",
    "import resolvers.handlers\nimport resolvers.runtime\nresolvers.runtime.service()",
)
# Times the code between two perf_counter calls, and the garbage collections that happen inside it. Only builtin
# modules (gc, time) are imported before the clock starts.
TIMER = """\
import gc, time
_gc = [0.0, 0.0]
def _collection(phase, info):
    if phase == "start":
        _gc[1] = time.perf_counter()
    else:
        _gc[0] += time.perf_counter() - _gc[1]
gc.callbacks.append(_collection)
_start = time.perf_counter()
{code}
print(time.perf_counter() - _start, _gc[0])
"""
MARK = "benchmarks: floor imported"
# Where the floor ends in the importtime log; garbage collection is off so that a collection's pause is not
# charged to whichever module happened to trigger it.
ATTRIBUTION = "import gc, sys\ngc.disable()\n{floor}\nsys.stderr.write({mark!r} + '\\n')\nsys.stderr.flush()\n{code}"
IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


@dataclass(frozen=True)
class Sample:
    total_ms: float
    gc_ms: float


def child_env(pycache: str) -> dict[str, str]:
    """A Lambda-like environment: fake credentials, the service's settings, no local endpoint. Bytecode is cached
    in a private directory (same for both measurements), never in the work tree."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHONDONTWRITE"))}
    return {**env, **FAKE_AWS, **SERVICE_ENV, "PYTHONPYCACHEPREFIX": pycache}


def run_python(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True)


def timed(code: str, env: Mapping[str, str]) -> Sample:
    total, gc_time = run_python(["-c", TIMER.format(code=code)], env).stdout.split()
    return Sample(float(total) * 1000, float(gc_time) * 1000)


def time_imports(candidates: Sequence[tuple[str, str]], env: Mapping[str, str]) -> dict[str, list[Sample]]:
    """IMPORT_RUNS fresh interpreters per candidate, interleaved so that machine noise hits all alike."""
    for _, code in candidates:
        timed(code, env)  # warm-up: writes the bytecode cache
    samples: dict[str, list[Sample]] = defaultdict(list)
    for _ in range(IMPORT_RUNS):
        for name, code in candidates:
            samples[name].append(timed(code, env))
    return samples


@dataclass
class ImportNode:
    name: str
    self_us: int
    cumulative_us: int
    children: list[ImportNode]


def import_tree(log: str) -> list[ImportNode]:
    """The imports after MARK as a tree (importtime prints each module after its children, indented by depth)."""
    pending: dict[int, list[ImportNode]] = defaultdict(list)
    for line in log.split(MARK, 1)[1].splitlines():
        match = IMPORTTIME_LINE.match(line)
        if match:
            self_us, cumulative_us, indent, name = match.groups()
            depth = len(indent) // 2
            pending[depth].append(ImportNode(name, int(self_us), int(cumulative_us), pending.pop(depth + 1, [])))
    return pending[0]


ImportPath = tuple[str, ...]  # a module and the modules that imported it, outermost first


def walk(nodes: Iterable[ImportNode], parents: ImportPath = ()) -> Iterator[tuple[ImportPath, ImportNode]]:
    """Every node in import order with its path: a module imported twice (a package, then its submodule) has two
    lines, and two paths."""
    for node in nodes:
        path = (*parents, node.name)
        yield path, node
        yield from walk(node.children, path)


@dataclass(frozen=True)
class Attribution:
    tree: list[ImportNode]  # of the first run; the import order is the same in every run
    self_ms: dict[ImportPath, float]  # median over runs
    cumulative_ms: dict[ImportPath, float]


def attribute_imports(env: Mapping[str, str]) -> Attribution:
    code = ATTRIBUTION.format(floor=FLOOR[1], mark=MARK, code=LAMBDA[1])
    trees = [import_tree(run_python(["-X", "importtime", "-c", code], env).stderr) for _ in range(ATTRIBUTION_RUNS)]
    self_ms: dict[ImportPath, list[float]] = defaultdict(list)
    cumulative_ms: dict[ImportPath, list[float]] = defaultdict(list)
    for tree in trees:
        for path, node in walk(tree):
            self_ms[path].append(node.self_us / 1000)
            cumulative_ms[path].append(node.cumulative_us / 1000)
    return Attribution(trees[0], _medians(self_ms), _medians(cumulative_ms))


def _medians(values: Mapping[ImportPath, list[float]]) -> dict[ImportPath, float]:
    return {path: statistics.median(samples) for path, samples in values.items()}


def ms(value: float) -> str:
    return f"{value:.1f}"


Statistic = Callable[[Sequence[Sample]], float]


def median_ms(runs: Sequence[Sample]) -> float:
    return statistics.median(run.total_ms for run in runs)


def median_without_gc_ms(runs: Sequence[Sample]) -> float:
    return statistics.median(run.total_ms - run.gc_ms for run in runs)


def fastest_ms(runs: Sequence[Sample]) -> float:
    return min(run.total_ms for run in runs)


def _timing_row(name: str, runs: Sequence[Sample]) -> list[str]:
    figures = (median_ms(runs), fastest_ms(runs), max(run.total_ms for run in runs))
    gc_pauses = statistics.median(run.gc_ms for run in runs)
    return [name, *map(ms, (*figures, gc_pauses, median_without_gc_ms(runs)))]


def _ratio_line(label: str, statistic: Statistic, samples: Mapping[str, list[Sample]]) -> str:
    floor, lambda_code = statistic(samples[FLOOR[0]]), statistic(samples[LAMBDA[0]])
    ratio = lambda_code / floor
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    return f"{label}: {ratio:.2f}x the floor (+{lambda_code - floor:.0f} ms); target <= {TARGET_RATIO}x: {verdict}"


def report_timings(samples: Mapping[str, list[Sample]]) -> None:
    print_table(
        f"Cold import time, a fresh interpreter per run, {IMPORT_RUNS} runs each, interleaved (ms)",
        ["what", "median", "min", "max", "GC pauses (median)", "median without GC"],
        (_timing_row(name, runs) for name, runs in samples.items()),
        align="lrrrrr",
    )
    print()
    print(_ratio_line("ratio of medians", median_ms, samples))
    print(_ratio_line("ratio of medians without GC pauses", median_without_gc_ms, samples))
    print(_ratio_line("ratio of the fastest runs (least disturbed)", fastest_ms, samples))


def report_attribution(attribution: Attribution) -> None:
    packages: dict[str, float] = defaultdict(float)
    for path, value in attribution.self_ms.items():
        packages[path[-1].split(".")[0]] += value
    total = sum(packages.values())
    heaviest = sorted(packages.items(), key=lambda package: package[1], reverse=True)
    print_table(
        f"What the Lambda code imports beyond the floor, by top-level package (python -X importtime with GC off,"
        f" median of {ATTRIBUTION_RUNS} runs; sum of self times {total:.0f} ms)",
        ["package", "self ms", "share"],
        ([name, ms(value), f"{value / total:.0%}"] for name, value in heaviest),
        align="lrr",
    )
    print_table(
        f"Import chains beyond the floor of >= {TREE_CUTOFF_MS:g} ms (indented under the module that imports them)",
        ["module", "cumulative ms", "self ms"],
        (
            ["  " * (len(path) - 1) + node.name, ms(attribution.cumulative_ms[path]), ms(attribution.self_ms[path])]
            for path, node in walk(attribution.tree)
            if attribution.cumulative_ms[path] >= TREE_CUTOFF_MS
        ),
        align="lrr",
    )


def report_imports() -> None:
    with tempfile.TemporaryDirectory(prefix="inventory-bench-pycache-") as pycache:
        env = child_env(pycache)
        report_timings(time_imports([FLOOR, LAMBDA], env))
        report_attribution(attribute_imports(env))
