"""Build and start the project's service images through the Docker SDK (``arenas images``).

``containers/compose.yaml`` is the one description of the services (image tag, Dockerfile, command,
environment, loopback ports, volumes); this module reads it and drives a Docker daemon through the
``docker`` package, so a machine with a daemon but without the compose plugin (CI runners, Python
notebooks) can build the images, start them, wait for their health checks and stop them again.
Containers are found again by the label :data:`LABEL`, never by name.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from arenas.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "containers" / "compose.yaml"
LABEL = "org.arenas.service"
NETWORK = "arenas"
_VAR = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


@dataclass(frozen=True)
class Port:
    host_ip: str
    host_port: int
    container_port: int


@dataclass(frozen=True)
class ServiceSpec:
    """One compose service, with its variables already substituted."""

    name: str
    image: str
    dockerfile: str
    context: Path
    command: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    volumes: dict[str, str] = field(default_factory=dict)
    """Named volume -> mount point in the container."""
    init: bool = False
    restart: str | None = None


def substitute(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable syntax: ``${X}``, ``${X:-default}``, ``${X:?message}`` (an error when unset)."""

    def one(m: re.Match) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        have = env.get(name)
        if op in (":-", "-"):
            return have if have else arg
        if op in (":?", "?"):
            if not have:
                raise ConfigError(f"${name} must be set: {arg or 'required by containers/compose.yaml'}")
            return have
        return have or ""

    return _VAR.sub(one, value)


def _port(text: str) -> Port:
    parts = str(text).split(":")
    if len(parts) != 3:
        raise ConfigError(f"port {text!r}: publish as HOST_IP:HOST_PORT:CONTAINER_PORT")
    return Port(parts[0], int(parts[1]), int(parts[2]))


def load_services(path: Path = COMPOSE, env: Mapping[str, str] | None = None) -> dict[str, ServiceSpec]:
    """The services of a compose file, variables substituted from ``env`` (default: the process's)."""
    import yaml

    env = os.environ if env is None else env
    data = yaml.safe_load(path.read_text())

    def sub(v: Any) -> Any:
        if isinstance(v, str):
            return substitute(v, env)
        if isinstance(v, list):
            return [sub(x) for x in v]
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        return v

    services = {}
    for name, raw in (data.get("services") or {}).items():
        build = raw.get("build") or {}
        volumes = {}
        for v in raw.get("volumes", []):
            source, _, target = str(v).partition(":")
            volumes[source] = target
        services[name] = ServiceSpec(
            name=name, image=raw["image"], dockerfile=build.get("dockerfile", "Dockerfile"),
            context=(path.parent / build.get("context", ".")).resolve(),
            command=sub(raw["command"]) if "command" in raw else None,
            environment={k: str(x) for k, x in sub(raw.get("environment") or {}).items()},
            ports=tuple(_port(sub(p)) for p in raw.get("ports", [])), volumes=volumes,
            init=bool(raw.get("init", False)), restart=raw.get("restart"))
    return services


def connect(base_url: str | None = None) -> Any:
    """A Docker client, or a :class:`ConfigError` saying no daemon answered."""
    try:
        import docker
    except ImportError as e:
        raise ConfigError("the docker package is missing: pip install 'arenas[containers]'") from e
    try:
        client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        client.ping()
    except docker.errors.DockerException as e:
        where = base_url or os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise ConfigError(f"no Docker daemon reachable at {where}: {e}") from e
    return client


def build(client: Any, spec: ServiceSpec, log: Callable[[str], None] = print) -> str:
    """Builds ``spec.image`` from its Dockerfile (context filtered by ``.dockerignore``); returns
    the image id. A failed step raises with the daemon's message."""
    image_id = None
    for chunk in client.api.build(path=str(spec.context), dockerfile=spec.dockerfile, tag=spec.image,
                                  rm=True, decode=True):
        if "error" in chunk:
            detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            raise RuntimeError(f"building {spec.image} failed: {detail.strip()}")
        if chunk.get("stream", "").strip():
            log(chunk["stream"].rstrip())
        image_id = (chunk.get("aux") or {}).get("ID", image_id)
    if image_id is None:
        raise RuntimeError(f"building {spec.image}: the daemon reported no image id")
    return image_id


def _ensure_network(client: Any) -> None:
    if not client.api.networks(names=[NETWORK]):
        client.api.create_network(NETWORK, driver="bridge", labels={LABEL: "network"})


def start(client: Any, spec: ServiceSpec) -> Any:
    """Runs one service detached on the project network, ports published as the compose file says."""
    _ensure_network(client)
    for volume in spec.volumes:
        client.volumes.create(name=volume, labels={LABEL: "volume"})
    ports = {f"{p.container_port}/tcp": (p.host_ip, p.host_port) for p in spec.ports}
    return client.containers.run(
        spec.image, command=spec.command, detach=True, environment=spec.environment, ports=ports,
        volumes={v: {"bind": target, "mode": "rw"} for v, target in spec.volumes.items()},
        labels={LABEL: spec.name}, init=spec.init or None, network=NETWORK, hostname=spec.name,
        restart_policy={"Name": spec.restart} if spec.restart else None)


def health(container: Any) -> str:
    """``healthy``, ``unhealthy``, ``starting``, or the container's state when it has no health check."""
    container.reload()
    state = container.attrs.get("State", {})
    if state.get("Status") in ("exited", "dead"):
        return state["Status"]
    return (state.get("Health") or {}).get("Status") or state.get("Status", "unknown")


def wait_healthy(containers: Mapping[str, Any], timeout_s: float = 180.0, poll_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> dict[str, str]:
    """Waits until every container's health check passes; raises with each one's status and log
    tail when one exits, turns unhealthy, or ``timeout_s`` passes."""
    deadline = clock() + timeout_s
    while True:
        status = {name: health(c) for name, c in containers.items()}
        if all(s in ("healthy", "running") for s in status.values()):  # running: no health check
            return status
        bad = {n: s for n, s in status.items() if s in ("unhealthy", "exited", "dead")}
        if bad or clock() > deadline:
            failing = bad or {n: s for n, s in status.items() if s not in ("healthy", "running")}
            tails = {n: containers[n].logs(tail=20).decode(errors="replace") for n in failing}
            raise RuntimeError("services not healthy: " + "; ".join(
                f"{n} is {s}, log tail: {tails[n].strip()[-800:]}" for n, s in failing.items()))
        time.sleep(poll_s)


def ours(client: Any) -> list[Any]:
    """Every container this module started (running or not), found by label."""
    return client.containers.list(all=True, filters={"label": LABEL})


def stop(client: Any, timeout_s: int = 10) -> list[str]:
    """Stops and removes the project's containers; returns their service names."""
    stopped = []
    for c in ours(client):
        c.stop(timeout=timeout_s)
        c.remove()
        stopped.append(c.labels.get(LABEL, c.id))
    return stopped


def _pick(services: dict[str, ServiceSpec], names: Iterable[str]) -> list[ServiceSpec]:
    names = list(names) or list(services)
    unknown = [n for n in names if n not in services]
    if unknown:
        raise ConfigError(f"unknown service(s) {unknown}; containers/compose.yaml has {sorted(services)}")
    return [services[n] for n in names]


images = typer.Typer(help="Build, start and stop the service images of containers/compose.yaml "
                          "through the Docker SDK.", no_args_is_help=True)
_Names = Annotated[list[str] | None, typer.Argument(help="services (default: all)")]
_Host = Annotated[str | None, typer.Option("--docker-host", help="daemon URL (default $DOCKER_HOST)")]


@images.command("build")
def build_command(names: _Names = None, docker_host: _Host = None) -> None:
    """Build the images."""
    client = connect(docker_host)
    for spec in _pick(load_services(), names or []):
        print(f"{spec.name}: {spec.image} = {build(client, spec)}")


@images.command("up")
def up_command(names: _Names = None, docker_host: _Host = None, build_first: Annotated[
        bool, typer.Option("--build/--no-build", help="build the images first")] = True,
               timeout_s: Annotated[float, typer.Option(help="health-check deadline")] = 180.0) -> None:
    """Start the services and wait for their health checks."""
    client = connect(docker_host)
    specs = _pick(load_services(), names or [])
    if build_first:
        for spec in specs:
            build(client, spec)
    started = {spec.name: start(client, spec) for spec in specs}
    for name, status in wait_healthy(started, timeout_s=timeout_s).items():
        ports = ", ".join(f"{p.host_ip}:{p.host_port}" for p in _pick(load_services(), [name])[0].ports)
        print(f"{name}: {status} {ports}")


@images.command("down")
def down_command(docker_host: _Host = None) -> None:
    """Stop and remove the services this command started."""
    for name in stop(connect(docker_host)):
        print(f"{name}: stopped")
