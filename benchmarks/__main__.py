"""``python -m benchmarks``: DynamoDB calls and capacity per GraphQL operation, then cold import time.

Part 1 starts DynamoDB Local, creates a fresh table with inventory.table.ensure_table and calls the Lambda handlers
with minimal AppSync events, exactly as AppSync would. A botocore event handler adds ReturnConsumedCapacity=TOTAL to
every DynamoDB request that accepts it and another reads ConsumedCapacity from every response, so the figures are
what DynamoDB says the code does, not what the code says it does.

Part 2 times imports in fresh interpreters (interleaved, median of many), then attributes the difference with
``python -X importtime``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from benchmarks.tables import plural, print_table
from devserver import dynamodb_local
from inventory.table import ensure_table
from resolvers import handlers, runtime

ROOT = Path(__file__).resolve().parent.parent
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
SERVICE_ENV = {
    "INVENTORY_TABLE_NAME": "inventory-benchmark",
    "INVENTORY_PAGE_TOKEN_SECRET": "benchmark-page-token-secret-0123456789",
}

# ---------------------------------------------------------------------------------------------------------------
# Tables


def units(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------------------------------------------------------
# Part 1: DynamoDB calls and consumed capacity per operation

READ_APIS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ExecuteStatement"})
SINGLE_WRITE_APIS = frozenset({"PutItem", "DeleteItem", "UpdateItem"})


@dataclass
class Tally:
    """What one operation cost: DynamoDB calls by API name, the items they write, and the capacity units reported."""

    calls: Counter[str] = field(default_factory=Counter)
    items_written: int = 0
    read_units: float = 0.0
    write_units: float = 0.0

    def add_request(self, api: str, params: Mapping[str, Any]) -> None:
        self.items_written += _items_written(api, params)

    def add_response(self, api: str, consumed: Any) -> None:
        self.calls[api] += 1
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            read, write = _read_write_units(api, entry)
            self.read_units += read
            self.write_units += write

    def row(self) -> list[str]:
        calls = ", ".join(f"{api} x{count}" for api, count in sorted(self.calls.items()))
        counts = [str(sum(self.calls.values())), str(self.items_written)]
        return [calls, *counts, *map(units, (self.read_units, self.write_units, self.read_units + self.write_units))]


def _items_written(api: str, params: Mapping[str, Any]) -> int:
    if api in SINGLE_WRITE_APIS:
        return 1
    if api == "TransactWriteItems":
        return sum("ConditionCheck" not in action for action in params["TransactItems"])
    if api == "BatchWriteItem":
        return sum(len(requests) for requests in params["RequestItems"].values())
    return 0


def _read_write_units(api: str, entry: Mapping[str, Any]) -> tuple[float, float]:
    """DynamoDB may split the units into read and write; DynamoDB Local reports only CapacityUnits, whose kind
    follows from the API."""
    if "ReadCapacityUnits" in entry or "WriteCapacityUnits" in entry:
        return float(entry.get("ReadCapacityUnits", 0)), float(entry.get("WriteCapacityUnits", 0))
    total = float(entry.get("CapacityUnits", 0))
    return (total, 0.0) if api in READ_APIS else (0.0, total)


class CapacityMeter:
    """Hooks into one boto3 client's event system; counts what happens inside :meth:`measure`."""

    def __init__(self, client: Any) -> None:
        self._tally: Tally | None = None
        client.meta.events.register("provide-client-params.dynamodb.*", self._on_request)
        client.meta.events.register("after-call.dynamodb.*", self._on_response)

    @contextlib.contextmanager
    def measure(self) -> Iterator[Tally]:
        self._tally = tally = Tally()
        try:
            yield tally
        finally:
            self._tally = None

    def _on_request(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.input_shape is not None and "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "TOTAL"
        if self._tally is not None:
            self._tally.add_request(model.name, params)

    def _on_response(self, model: Any, parsed: Mapping[str, Any], **_: Any) -> None:
        # after-call also fires for error responses (a failed condition): counted as a call, they report no units.
        if self._tally is not None:
            self._tally.add_response(model.name, parsed.get("ConsumedCapacity"))


# Minimal AppSync events: what a Lambda data source receives (the Powertools AppSyncResolverEvent shape).

ITEM_FIELDS = (
    *("id", "sku", "name", "description", "category", "price", "quantity", "reorderPoint", "status", "lowStock"),
    *("version", "createdAt", "updatedAt"),
)
MOVEMENT_FIELDS = ("id", "itemId", "delta", "quantityAfter", "reason", "reference", "createdAt")


def _nested(name: str, fields: Sequence[str]) -> list[str]:
    return [name, *(f"{name}/{child}" for child in fields)]


SELECTIONS: dict[str, list[str]] = {
    **{name: list(ITEM_FIELDS) for name in ("getItem", "getItemBySku", "createItem", "updateItem", "deleteItem")},
    "listItems": [*_nested("items", ITEM_FIELDS), "nextToken"],
    "movements": [*_nested("items", MOVEMENT_FIELDS), "nextToken"],
    "adjustStock": list(MOVEMENT_FIELDS),
    "fulfillOrder": ["orderId", *_nested("movements", MOVEMENT_FIELDS)],
}


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes of the Lambda context that Powertools' Logger reads."""

    function_name: str = "inventory-benchmark"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:inventory-benchmark"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"


CONTEXT = cast(LambdaContext, FakeLambdaContext())


class OperationFailed(RuntimeError):
    """A benchmarked operation returned an error envelope: its figures would describe an error path."""


def appsync_event(
    parent: str, field_name: str, arguments: Mapping[str, Any], source: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "arguments": dict(arguments),
        "identity": None,
        "source": None if source is None else dict(source),
        "request": {"headers": {"x-amzn-trace-id": "Root=1-00000000-000000000000000000000000"}, "domainName": None},
        "prev": None,
        "info": {
            "fieldName": field_name,
            "parentTypeName": parent,
            "variables": {},
            "selectionSetList": SELECTIONS[field_name],
            "selectionSetGraphQL": "",
        },
        "stash": {},
    }


def succeeded(result: Any) -> Any:
    if isinstance(result, Mapping) and "error" in result:
        raise OperationFailed(str(result["error"]))
    return result


def query(field_name: str, **arguments: Any) -> Any:
    return succeeded(handlers.queries_handler(appsync_event("Query", field_name, arguments), CONTEXT))


def mutation(field_name: str, **arguments: Any) -> Any:
    return succeeded(handlers.mutations_handler(appsync_event("Mutation", field_name, arguments), CONTEXT))


def movements(items: Sequence[Mapping[str, Any]], **arguments: Any) -> list[Any]:
    """``Item.movements`` for each item, in one batched invocation (as AppSync sends it with a batch size)."""
    events = [appsync_event("Item", "movements", arguments, source=item) for item in items]
    return [succeeded(result) for result in handlers.queries_handler(events, CONTEXT)]


# The data the operations run on.

CATEGORY = "benchmark"
SEED_ITEMS = 30  # more than a page, so that every listing below returns a full page and a nextToken
PAGE = 20
BUSY_ITEM_MOVEMENTS = 25  # item 0 gets this many movements: more than a page of them


def new_item(sku: str, quantity: int) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Benchmark item {sku}",
        "description": "An item of the benchmark data set.",
        "category": CATEGORY,
        "price": 19.99,
        "quantity": quantity,
        "reorderPoint": 10,
    }


def adjustment(item_id: str, delta: int, key: str) -> dict[str, Any]:
    return {"itemId": item_id, "delta": delta, "reason": "RECEIVED", "reference": "PO-1", "idempotencyKey": key}


def order(order_id: str, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"orderId": order_id, "lines": [{"itemId": item["id"], "quantity": 1} for item in items]}


def seed() -> list[dict[str, Any]]:
    """SEED_ITEMS items with 5 in stock (AVAILABLE and low stock), the first one with BUSY_ITEM_MOVEMENTS movements."""
    items = [mutation("createItem", input=new_item(f"SEED-{n:04d}", 5)) for n in range(SEED_ITEMS)]
    for n in range(BUSY_ITEM_MOVEMENTS - 1):
        mutation("adjustStock", input=adjustment(items[0]["id"], 1, f"seed-{n}"))
    return items


Operation = tuple[str, Callable[[], Any]]


def operations(items: Sequence[Mapping[str, Any]]) -> list[Operation]:
    """The measured operations, in the order they run (each later one sees the writes of the earlier ones)."""
    first, second = items[0], items[1]
    page = {"limit": PAGE}
    return [
        ("getItem", partial(query, "getItem", id=first["id"])),
        ("getItemBySku", partial(query, "getItemBySku", sku=first["sku"])),
        ("listItems, no filter", partial(query, "listItems", **page)),
        ("listItems, filter category", partial(query, "listItems", filter={"category": CATEGORY}, **page)),
        ("listItems, filter status", partial(query, "listItems", filter={"status": "AVAILABLE"}, **page)),
        ("listItems, filter lowStock", partial(query, "listItems", filter={"lowStock": True}, **page)),
        ("Item.movements, 1 item", partial(movements, items[:1], **page)),
        (f"Item.movements, batch of {PAGE} items", partial(movements, items[:PAGE], **page)),
        ("createItem, quantity 0", partial(mutation, "createItem", input=new_item("NEW-0", 0))),
        ("createItem, initial stock", partial(mutation, "createItem", input=new_item("NEW-1", 50))),
        ("updateItem", partial(mutation, "updateItem", input={"id": second["id"], "expectedVersion": 1, "name": "X"})),
        ("deleteItem", partial(mutation, "deleteItem", id=items[-1]["id"])),
        ("adjustStock, first time", partial(mutation, "adjustStock", input=adjustment(second["id"], 3, "bench"))),
        ("adjustStock, replay", partial(mutation, "adjustStock", input=adjustment(second["id"], 3, "bench"))),
        *(
            (
                f"fulfillOrder, {plural(lines, 'line')}",
                partial(mutation, "fulfillOrder", input=order(key, items[:lines])),
            )
            for lines, key in ((1, "order-1"), (5, "order-5"), (25, "order-25"))
        ),
        ("fulfillOrder, 25 lines, replay", partial(mutation, "fulfillOrder", input=order("order-25", items[:25]))),
    ]


def describe(result: Any) -> str:
    """A few words on what an operation returned, to show that it did what its name says."""
    if result is None:
        return "null"
    if isinstance(result, list):
        return f"{plural(len(result), 'page')}, {plural(sum(len(page['items']) for page in result), 'movement')}"
    if "items" in result:
        return plural(len(result["items"]), "item") + (" + nextToken" if result["nextToken"] else "")
    if "orderId" in result:
        return plural(len(result["movements"]), "movement")
    if "delta" in result:
        return f"movement {result['delta']:+d} -> {result['quantityAfter']}"
    return f"item v{result['version']}, quantity {result['quantity']}"


def measure_operations(endpoint: str) -> list[list[str]]:
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    client = runtime.dynamodb_client()  # the very client the resolvers use
    ensure_table(client, SERVICE_ENV["INVENTORY_TABLE_NAME"])
    meter = CapacityMeter(client)
    rows = []
    for name, run in operations(seed()):
        with meter.measure() as tally:
            result = run()
        rows.append([name, describe(result), *tally.row()])
    return rows


def report_operations() -> None:
    with dynamodb_local.running() as endpoint:
        rows = measure_operations(endpoint)
    print_table(
        "DynamoDB calls and consumed capacity per GraphQL operation (DynamoDB Local, ReturnConsumedCapacity=TOTAL)",
        ["operation", "result", "DynamoDB calls", "calls", "items written", "RCU", "WCU", "total CU"],
        rows,
        align="lllrrrrr",
    )
    print(
        f"""
Data: {SEED_ITEMS} items in one category with 5 in stock each (AVAILABLE, low stock); page size {PAGE}; the first
item has {BUSY_ITEM_MOVEMENTS} movements, the others 1. DynamoDB Local reports one CapacityUnits figure per call:
shown as RCU for GetItem/BatchGetItem/Query, as WCU for PutItem/TransactWriteItems.
Caveat: DynamoDB Local does not add up the items of a TransactWriteItems (its table units stay the same for 1 or
12 items; index writes count 2 units each), so its transaction WCU are far below AWS's bill: 2 WCU per KB of every
item written in a transaction (see "items written"), plus the index writes."""
    )


# ---------------------------------------------------------------------------------------------------------------
# Part 2: cold import time

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


def main() -> None:
    os.environ.update(FAKE_AWS | SERVICE_ENV)
    os.environ.pop("AWS_PROFILE", None)
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("boto3", "aws-lambda-powertools"))
    print(f"Inventory API benchmark: Python {platform.python_version()}, {versions}")
    report_operations()
    report_imports()


if __name__ == "__main__":
    main()
