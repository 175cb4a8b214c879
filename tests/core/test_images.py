"""`arenas images` drives a Docker daemon through the SDK. No daemon runs here, so these tests speak
to a stand-in of the Docker Engine API on 127.0.0.1 that records every request: they check the
HTTP calls the real daemon would receive (build context, container config, health polling, stop by
label), not a mock of our own functions."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

docker = pytest.importorskip("docker")

from arenas import containers  # noqa: E402
from arenas.config import ConfigError  # noqa: E402

TOKEN = {"ARENAS_SERVER_TOKEN": "t0ken"}


class Daemon:
    """Enough of the Engine API for build, run, inspect, logs, list, stop and remove."""

    def __init__(self, health: list[str], build_error: str | None = None):
        self.health = health  # statuses returned by successive inspections of a started container
        self.build_error = build_error
        self.requests: list[tuple[str, str, dict, bytes]] = []
        self.containers: dict[str, dict] = {"foreign": {"Labels": {}, "inspections": 0}}
        self.context: list[str] = []
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _send(self, code: int, payload=None, raw: bytes | None = None, ctype="application/json"):
                data = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, lines: list[dict]) -> None:
                """The daemon streams build progress as chunked JSON lines."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for line in lines:
                    data = json.dumps(line).encode() + b"\r\n"
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                path = re.sub(r"^/v[\d.]+", "", url.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self._body()
                daemon.requests.append((method, path, query, body))
                daemon.handle(self, method, path, query, body)

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_DELETE(self):
                self._route("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"tcp://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def inspect(self, cid: str) -> dict:
        c = self.containers[cid]
        c["inspections"] += 1
        status = self.health[min(c["inspections"] - 1, len(self.health) - 1)] if cid != "foreign" else "healthy"
        state = {"Status": "exited" if status == "exited" else "running"}
        if status not in ("exited", "running"):
            state["Health"] = {"Status": status}
        return {"Id": cid, "Name": "/" + cid, "Config": {"Labels": c["Labels"], "Tty": False}, "State": state}

    def handle(self, h, method, path, query, body) -> None:
        if path == "/_ping":
            return h._send(200, raw=b"OK", ctype="text/plain")
        if path == "/version":
            return h._send(200, {"ApiVersion": "1.43", "Version": "stand-in"})
        if path == "/build":
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                self.context = tar.getnames()
            lines = [{"stream": f"Step 1/1 : FROM {query['dockerfile']}\n"}]
            lines.append({"error": self.build_error, "errorDetail": {"message": self.build_error}}
                         if self.build_error else {"aux": {"ID": "sha256:feed"}})
            return h._stream(lines)
        if path == "/networks" and method == "GET":
            return h._send(200, [])
        if path == "/networks/create":
            return h._send(201, {"Id": "net"})
        if path == "/volumes/create":
            return h._send(201, {"Name": json.loads(body)["Name"]})
        if path == "/containers/create":
            cid = f"c{len(self.containers)}"
            self.containers[cid] = {"Labels": json.loads(body)["Labels"], "create": json.loads(body),
                                    "name": query.get("name"), "inspections": 0}
            return h._send(201, {"Id": cid, "Warnings": []})
        if path == "/containers/json":
            label = json.loads(query.get("filters", "{}")).get("label", [None])[0]
            found = [{"Id": cid} for cid, c in self.containers.items() if label is None or label in c["Labels"]]
            return h._send(200, found)
        m = re.fullmatch(r"/containers/(\w+)(/\w+)?", path)
        if m and m.group(1) in self.containers:
            cid, action = m.group(1), m.group(2)
            if action == "/json":
                return h._send(200, self.inspect(cid))
            if action == "/logs":
                text = b"server crashed: port in use\n"
                return h._send(200, raw=bytes([2, 0, 0, 0]) + len(text).to_bytes(4, "big") + text,
                               ctype="application/vnd.docker.raw-stream")
            if action in ("/start", "/stop") or method == "DELETE":
                return h._send(204)
        h._send(404, {"message": f"stand-in has no {method} {path}"})

    def calls(self, method: str, pattern: str) -> list[tuple[str, dict, bytes]]:
        return [(p, q, b) for m, p, q, b in self.requests if m == method and re.fullmatch(pattern, p)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def daemon_factory():
    made = []

    def make(**kw) -> Daemon:
        made.append(Daemon(**kw))
        return made[-1]

    yield make
    for d in made:
        d.close()


def _client(d: Daemon):
    return docker.DockerClient(base_url=d.url, version="1.43")


def test_compose_services_need_their_token_and_publish_on_loopback():
    with pytest.raises(ConfigError, match="ARENAS_SERVER_TOKEN must be set"):
        containers.load_services(env={})
    services = containers.load_services(env=TOKEN)
    assert {"env-server", "showdown", "gui-server"} <= set(services)
    for spec in services.values():
        assert (spec.context / spec.dockerfile).is_file()
        assert spec.ports and all(p.host_ip == "127.0.0.1" for p in spec.ports)
    server = services["env-server"]
    assert server.environment == {"ARENAS_SERVER_TOKEN": "t0ken"}
    assert server.command == ["memory"]  # ${ARENA:-memory}
    assert containers.load_services(env={**TOKEN, "ARENA": "sql"})["env-server"].command == ["sql"]


def test_build_sends_the_checkout_without_ignored_folders_and_returns_the_image(daemon_factory):
    d = daemon_factory(health=["healthy"])
    spec = containers.load_services(env=TOKEN)["env-server"]
    logs = []
    assert containers.build(_client(d), spec, log=logs.append) == "sha256:feed"
    (_, query, _), = d.calls("POST", "/build")
    assert query["t"] == spec.image and query["dockerfile"] == "containers/server/Dockerfile"
    assert "containers/server/Dockerfile" in d.context and "pyproject.toml" in d.context
    assert not [n for n in d.context if n.startswith(".git/") or "node_modules" in n or n.startswith("runs/")]
    assert logs == ["Step 1/1 : FROM containers/server/Dockerfile"]


def test_a_failed_build_raises_the_daemons_message(daemon_factory):
    d = daemon_factory(health=["healthy"], build_error="npm ci exited with 1")
    with pytest.raises(RuntimeError, match="npm ci exited with 1"):
        containers.build(_client(d), containers.load_services(env=TOKEN)["showdown"], log=lambda s: None)


def test_up_runs_each_service_on_loopback_and_waits_for_its_health_check(daemon_factory):
    d = daemon_factory(health=["starting", "starting", "healthy"])
    client = _client(d)
    spec = containers.load_services(env=TOKEN)["env-server"]
    started = {spec.name: containers.start(client, spec)}
    status = containers.wait_healthy(started, timeout_s=10, poll_s=0.01)
    assert status == {"env-server": "healthy"}
    (_, query, body), = d.calls("POST", "/containers/create")
    config = json.loads(body)
    assert config["Image"] == spec.image and config["Cmd"] == ["memory"]
    assert "ARENAS_SERVER_TOKEN=t0ken" in config["Env"]
    assert config["Labels"] == {containers.LABEL: "env-server"}
    assert config["HostConfig"]["PortBindings"] == {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8000"}]}
    assert config["HostConfig"]["Binds"] == ["arenas-data:/data/arenas:rw"]
    assert config["HostConfig"]["NetworkMode"] == containers.NETWORK
    assert [json.loads(b)["Name"] for _, _, b in d.calls("POST", "/volumes/create")] == ["arenas-data"]
    assert len(d.calls("POST", r"/containers/c\d+/start")) == 1
    assert d.containers["c1"]["inspections"] >= 3  # polled until healthy, not returned at "starting"


def test_an_unhealthy_service_raises_with_its_log_tail(daemon_factory):
    d = daemon_factory(health=["starting", "unhealthy"])
    c = containers.start(_client(d), containers.load_services(env=TOKEN)["showdown"])
    with pytest.raises(RuntimeError, match="showdown is unhealthy.*server crashed: port in use"):
        containers.wait_healthy({"showdown": c}, timeout_s=10, poll_s=0.01)


def test_a_service_that_never_turns_healthy_times_out(daemon_factory):
    d = daemon_factory(health=["starting"])
    c = containers.start(_client(d), containers.load_services(env=TOKEN)["showdown"])
    with pytest.raises(RuntimeError, match="showdown is starting"):
        containers.wait_healthy({"showdown": c}, timeout_s=0.05, poll_s=0.01)


def test_down_stops_only_containers_carrying_the_label(daemon_factory):
    d = daemon_factory(health=["healthy"])
    client = _client(d)
    containers.start(client, containers.load_services(env=TOKEN)["showdown"])
    assert containers.stop(client) == ["showdown"]
    assert [p for p, _, _ in d.calls("POST", r"/containers/\w+/stop")] == ["/containers/c1/stop"]
    assert [p for p, _, _ in d.calls("DELETE", r"/containers/\w+")] == ["/containers/c1"]


def test_no_daemon_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConfigError, match=f"no Docker daemon reachable at tcp://127.0.0.1:{port}"):
        containers.connect(f"tcp://127.0.0.1:{port}")


def test_cli_up_and_down_against_the_daemon(daemon_factory):
    d = daemon_factory(health=["healthy"])
    env = {**__import__("os").environ, **TOKEN}
    run = [sys.executable, "-m", "arenas.cli", "images"]
    up = subprocess.run(run + ["up", "showdown", "--no-build", "--docker-host", d.url],
                        capture_output=True, text=True, env=env, timeout=60)
    assert up.returncode == 0, up.stderr
    assert "showdown: healthy 127.0.0.1:8100" in up.stdout
    down = subprocess.run(run + ["down", "--docker-host", d.url], capture_output=True, text=True, env=env, timeout=60)
    assert down.returncode == 0 and "showdown: stopped" in down.stdout
    bad = subprocess.run(run + ["up", "nope", "--docker-host", d.url], capture_output=True, text=True, env=env,
                         timeout=60)
    assert bad.returncode == 2 and "unknown service(s) ['nope']" in bad.stderr
