"""Runs untrusted code in a library version's venv: a subprocess jail, or a Docker container.

The subprocess backend gives each run a fresh temporary directory, a minimal environment,
CPU-time / address-space / file-size / process-count rlimits, a wall-clock deadline that kills
the whole process group, and no network. Network isolation is a new user+network namespace
(``unshare``) where the kernel permits it, inside a PID namespace that dies with the run; the
same namespace also gets a private mount
table in which the venv is bind-mounted into the work directory and ``$ARENAS_HOME`` (other
venvs, task data) and the project's source tree (hidden tests) are covered by empty tmpfs
mounts. Where ``unshare`` is not permitted the documented fallback is the harness's socket
block (``socket.socket`` and name resolution raise) and the hidden data stays out of the
sandbox only because it is never written there.

The Docker backend (``containers/migration/Dockerfile``) runs the same harness with
``network_mode="none"``, a memory and pids cap and a read-only root; it is used when a Docker
daemon answers and reported unavailable otherwise.
"""

from __future__ import annotations

import base64
import io
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).with_name("sandbox_harness.py")
#: user, mount, network and PID namespaces; the PID namespace dies with unshare (--kill-child),
#: taking along any process that left the process group with setsid()
UNSHARE_FLAGS = ("--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child")


@dataclass(frozen=True)
class Limits:
    """Per-run resource caps."""

    cpu_s: int = 20
    wall_s: float = 30.0
    memory_mb: int = 3072
    output_bytes: int = 256_000
    processes: int = 64
    """New processes/threads the run may start (on top of those the user already runs)."""


@dataclass
class RunResult:
    returncode: int | None
    stdout: str
    stderr: str
    wall_s: float
    timed_out: bool = False
    payload: dict[str, Any] | None = None
    """The harness's result line (None when the run died before writing it)."""
    isolation: str = "subprocess"
    notes: list[str] = field(default_factory=list)


@cache
def namespaces_available() -> bool:
    """Whether ``unshare`` may create user, network and mount namespaces here."""
    exe = shutil.which("unshare")
    if not exe:
        return False
    try:
        probe = subprocess.run([exe, *UNSHARE_FLAGS, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _hidden_paths(python: Path, work: Path) -> list[str]:
    """Directories covered by tmpfs inside the sandbox: the data cache and the source tree
    (never one holding the base interpreter or the work directory)."""
    from arenas.engines.cache import arenas_home

    tree = Path(__file__).resolve().parents[1]  # the installed arenas package...
    if (tree.parent / "pyproject.toml").exists():  # ...or the whole checkout it is installed from
        tree = tree.parent
    keep = [Path(os.path.realpath(python)).parent, work.resolve()]
    out = []
    for p in (arenas_home().resolve(), tree):
        if not any(k == p or p in k.parents for k in keep):
            out.append(str(p))
    return out


def _user_processes() -> int:
    """Processes (threads included) the current user already runs: RLIMIT_NPROC counts them
    too, so the cap is set that many above them."""
    uid, n = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    n += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return n


def _preexec(limits: Limits):
    nproc = _user_processes() + limits.processes

    def apply() -> None:
        mem = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes * 4, limits.output_bytes * 4))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        except (ValueError, OSError):
            pass
    return apply


def _read_capped(path: Path, cap: int) -> str:
    with open(path, "rb") as f:
        data = f.read(cap + 1)
    text = data[:cap].decode("utf-8", "replace")
    return text + ("\n[output truncated]" if len(data) > cap else "")


def _minimal_env(work: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def parse_payload(stdout: str, nonce: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(nonce):
            try:
                return json.loads(line[len(nonce):])
            except json.JSONDecodeError:
                return None
    return None


def run_subprocess(python: Path, request: dict[str, Any], files: dict[str, str],
                   limits: Limits = Limits(), isolate: bool | None = None) -> RunResult:
    """Runs the harness with ``request`` under ``python`` (a venv interpreter) in a fresh dir."""
    nonce = secrets.token_hex(16)
    use_ns = namespaces_available() if isolate is None else isolate
    venv = Path(python).parent.parent
    with tempfile.TemporaryDirectory(prefix="arenas-migration-") as work:
        wd = Path(work)
        for name, text in {**files, "harness.py": HARNESS.read_text()}.items():
            (wd / name).write_text(text)
        out_path, err_path = wd / ".stdout", wd / ".stderr"
        if use_ns:
            (wd / ".venv").mkdir()
            hide = " ".join(f"mount -t tmpfs -o size=1k tmpfs '{p}' &&" for p in _hidden_paths(python, wd))
            script = (f"mount --bind '{venv}' '{wd}/.venv' && {hide} "
                      f"cd '{wd}' && exec '{wd}/.venv/bin/python' -I harness.py")
            cmd = ["unshare", *UNSHARE_FLAGS, "/bin/sh", "-c", script]
        else:
            cmd = [str(python), "-I", "harness.py"]
        t0 = time.perf_counter()
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=work, env=_minimal_env(work), stdin=subprocess.PIPE,
                                    stdout=out, stderr=err, start_new_session=True,
                                    preexec_fn=_preexec(limits))
            try:
                proc.stdin.write(json.dumps({**request, "nonce": nonce}).encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                proc.wait(timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        wall = time.perf_counter() - t0
        stdout = _read_capped(out_path, limits.output_bytes * 4)
        stderr = _read_capped(err_path, limits.output_bytes)
    payload = parse_payload(stdout, nonce)
    visible = "\n".join(line for line in stdout.splitlines() if not line.startswith(nonce))
    if len(visible) > limits.output_bytes:
        visible = visible[:limits.output_bytes] + "\n[output truncated]"
    return RunResult(proc.returncode, visible, stderr, wall, timed_out, payload,
                     "namespace" if use_ns else "subprocess")


# ---- Docker backend -----------------------------------------------------------------------
IMAGE = "arenas-migration:0"
_DOCKER_BOOT = ("mkdir -p /tmp/work && cd /tmp/work && echo \"$FILES\" | base64 -d | tar xz && "
                "exec /venvs/{venv}/bin/python -I harness.py < request.json")


def docker_client() -> Any | None:
    """A Docker client when the ``docker`` package is installed and a daemon answers, else None."""
    try:
        import docker  # type: ignore[import-not-found]

        client = docker.from_env(timeout=5)
        client.ping()
        return client
    except Exception:  # no package, no socket, daemon down: the backend is unavailable
        return None


def docker_status() -> str:
    return "available" if docker_client() is not None else "unavailable (no Docker daemon reachable)"


def run_docker(venv_name: str, request: dict[str, Any], files: dict[str, str],
               limits: Limits = Limits(), client: Any | None = None) -> RunResult:
    """Runs the harness in the image's ``/venvs/<venv_name>`` with no network."""
    client = client or docker_client()
    if client is None:
        raise RuntimeError("Docker backend unavailable: no Docker daemon reachable")
    nonce = secrets.token_hex(16)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in {**files, "harness.py": HARNESS.read_text(),
                           "request.json": json.dumps({**request, "nonce": nonce})}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    container = client.containers.run(
        IMAGE, ["/bin/sh", "-c", _DOCKER_BOOT.format(venv=venv_name)],
        environment={"FILES": base64.b64encode(buf.getvalue()).decode(), **_minimal_env("/tmp/work")},
        network_mode="none", mem_limit=f"{limits.memory_mb}m", pids_limit=limits.processes,
        read_only=True, tmpfs={"/tmp": "size=64m,exec"}, user="1000:1000", detach=True)
    t0 = time.perf_counter()
    timed_out, code = False, None
    try:
        try:
            code = container.wait(timeout=limits.wall_s).get("StatusCode")
        except Exception:  # the deadline passed (requests' read timeout)
            timed_out = True
            container.kill()
        stdout = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")[: limits.output_bytes * 4]
        stderr = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")[: limits.output_bytes]
    finally:
        container.remove(force=True)
    payload = parse_payload(stdout, nonce)
    visible = "\n".join(line for line in stdout.splitlines() if not line.startswith(nonce))
    return RunResult(code, visible[: limits.output_bytes], stderr, time.perf_counter() - t0, timed_out, payload,
                     "docker")


def run_sandboxed(target: dict[str, Any], request: dict[str, Any], files: dict[str, str],
                  limits: Limits = Limits()) -> RunResult:
    """Runs in the backend ``target`` names: ``{"backend": "subprocess" | "docker", "python": venv
    interpreter, "venv": venv name inside the image}``."""
    if target.get("backend", "subprocess") == "docker":
        return run_docker(target["venv"], request, files, limits)
    return run_subprocess(Path(target["python"]), request, files, limits)
