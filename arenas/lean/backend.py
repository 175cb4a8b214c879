"""Where Lean runs: one interface over a local REPL, the container image, a Kimina Lean Server
and LeanDojo, plus the detection that says which one exists.

Every backend answers :meth:`LeanBackend.check`: elaborate a piece of Lean code on top of the
task header (``import Mathlib`` ...) and return the REPL's response, message positions counted
from the code's first line. Interactive tactic mode (``start_proof``/``tactic``) is offered by
the REPL backends; a backend without it raises :class:`Unsupported`.

Detection order (:func:`open_backend`): a remote server URL, a local Lake project with the REPL,
the container image through a reachable Docker daemon. ``lean --version`` must succeed for a
local toolchain to count: a ``lean`` on PATH that fails is not a toolchain.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from arenas.config import ConfigError
from arenas.engines.lean_repl import ReplError, ReplProcess, ReplSession, Response, parse_response

IMAGE = "arenas-lean:v4.24.0"
"""The image ``containers/lean/Dockerfile`` builds (Lean and Mathlib pinned to miniF2F's toolchain)."""

HOW_TO_GET_LEAN = (
    "needs a Lean toolchain: formalize and prove modes check Lean 4 code with Mathlib, and none was "
    "found ({reasons}). Get one in any of three ways: (1) a local Lake project with Mathlib and the "
    "REPL built (`lake exe cache get && lake build`, REPL from github.com/leanprover-community/repl), "
    "passed as `-c lean_project=/path/to/project` (the REPL binary via `-c repl_path=...` if it is not "
    "at .lake/packages/REPL/.lake/build/bin/repl); (2) the image from containers/lean/Dockerfile "
    f"(`docker build -t {IMAGE} containers/lean`) with a reachable Docker daemon; (3) a Kimina Lean "
    "Server given by `-c lean_server_url=http://host:port`. The critic mode works without Lean."
)


class Unsupported(ReplError):
    """The backend cannot do this (e.g. tactic mode on a stateless server)."""


class NoToolchain(ConfigError):
    """No Lean backend is available; the message says how to get one (a configuration problem:
    the command line reports it in one paragraph, without a traceback)."""


@dataclass(frozen=True)
class Toolchain:
    """The result of running ``lean --version``."""

    ok: bool
    version: str
    detail: str = ""


def lean_version(lean: str = "lean", cwd: str | None = None, runner: list[str] | None = None) -> Toolchain:
    """Runs ``lean --version`` (through ``runner``, e.g. ``["lake", "env"]``, when given)."""
    argv = [*(runner or []), lean, "--version"]
    if shutil.which(argv[0]) is None:
        return Toolchain(False, "", f"`{argv[0]}` is not on PATH")
    try:
        out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Toolchain(False, "", f"`{' '.join(argv)}` failed: {e}")
    text = (out.stdout or out.stderr).strip()
    if out.returncode != 0 or "Lean" not in text:
        return Toolchain(False, "", f"`{' '.join(argv)}` exited {out.returncode}: {text[:200]!r}")
    return Toolchain(True, text.splitlines()[0])


class LeanBackend:
    """What the arena needs from Lean."""

    name = "lean"
    interactive = False

    def check(self, code: str, timeout_s: float | None = None) -> Response:
        raise NotImplementedError

    def start_proof(self, statement: str, timeout_s: float | None = None) -> Response:
        """Elaborates ``statement := by sorry``; the response's sorry carries the proof state."""
        raise Unsupported(f"the {self.name} backend has no tactic mode; submit whole proofs instead")

    def tactic(self, tactic: str, proof_state: int, generation: int | None = None,
               timeout_s: float | None = None) -> Response:
        raise Unsupported(f"the {self.name} backend has no tactic mode; submit whole proofs instead")

    def describe(self) -> str:
        return self.name

    def close(self) -> None:
        pass


class ReplBackend(LeanBackend):
    """A Lean REPL process (local ``lake env repl`` or ``docker exec -i``), header elaborated once."""

    name = "repl"
    interactive = True

    def __init__(self, command: list[str], header: str, cwd: str | None = None, timeout_s: float = 60.0,
                 memory_limit_mb: int | None = None, label: str = "repl", header_timeout_s: float = 600.0):
        self.process = ReplProcess(command, cwd=cwd, timeout_s=timeout_s, memory_limit_mb=memory_limit_mb)
        self.session = ReplSession(self.process, header, header_timeout_s)
        self.label = label

    def check(self, code: str, timeout_s: float | None = None) -> Response:
        return self.session.command(code, timeout_s=timeout_s)

    def start_proof(self, statement: str, timeout_s: float | None = None) -> Response:
        return self.session.command(statement, timeout_s=timeout_s)

    def tactic(self, tactic: str, proof_state: int, generation: int | None = None,
               timeout_s: float | None = None) -> Response:
        return self.session.tactic(tactic, proof_state, generation, timeout_s)

    def describe(self) -> str:
        return f"{self.label} ({' '.join(self.process.command)})"

    def close(self) -> None:
        self.process.close()


class KiminaBackend(LeanBackend):
    """A Kimina Lean Server (``POST /api/check`` with whole-file snippets; stateless)."""

    name = "kimina"

    def __init__(self, url: str, header: str, timeout_s: float = 60.0, api_key: str | None = None):
        self.url = url.rstrip("/")
        self.header = header.rstrip("\n") + "\n\n"
        self.timeout_s = timeout_s
        self.api_key = api_key

    def request_body(self, code: str, timeout_s: float) -> dict:
        return {"snippets": [{"id": uuid.uuid4().hex, "code": self.header + code}],
                "timeout": int(timeout_s), "debug": False, "reuse": True}

    def parse_reply(self, reply: dict) -> Response:
        """The snippet's REPL response, positions shifted back to ``code``'s own lines."""
        result = (reply.get("results") or [{}])[0]
        if result.get("error"):
            raise ReplError(f"Kimina server: {result['error']}")
        obj = dict(result.get("response") or {})
        shift = self.header.count("\n")
        for key in ("messages", "sorries"):
            items = []
            for item in obj.get(key) or []:
                item = dict(item)
                for p in ("pos", "endPos"):
                    if isinstance(item.get(p), dict):
                        item[p] = {**item[p], "line": item[p]["line"] - shift}
                items.append(item)
            obj[key] = items
        return parse_response(obj)

    def check(self, code: str, timeout_s: float | None = None) -> Response:
        timeout = timeout_s or self.timeout_s
        data = json.dumps(self.request_body(code, timeout)).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(f"{self.url}/api/check", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout + 30) as r:
                return self.parse_reply(json.loads(r.read()))
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as e:
            raise ReplError(f"Kimina server at {self.url} did not answer: {e}") from e

    def describe(self) -> str:
        return f"kimina ({self.url})"


class LeanDojoBackend(LeanBackend):
    """LeanDojo (``lean_dojo``) as a prove-mode checker: needs the package and a Lean toolchain
    it can trace with; absent either, :meth:`available` says which is missing."""

    name = "lean-dojo"

    @staticmethod
    def available() -> tuple[bool, str]:
        if importlib.util.find_spec("lean_dojo") is None:
            return False, "the lean_dojo package is not installed (pip install lean-dojo)"
        tc = lean_version()
        if not tc.ok:
            return False, f"lean_dojo is installed but there is no Lean toolchain ({tc.detail})"
        return True, tc.version

    def __init__(self, project: str):
        ok, why = self.available()
        if not ok:
            raise NoToolchain(why)
        self.project = project

    def check(self, code: str, timeout_s: float | None = None) -> Response:
        raise Unsupported("LeanDojo checks theorems of a traced repository, not free code; "
                          "use the REPL backend (lean_project) for arbitrary submissions")


def default_repl_path(project: Path) -> Path:
    return project / ".lake" / "packages" / "REPL" / ".lake" / "build" / "bin" / "repl"


def local_backend(project: str, header: str, repl_path: str | None, timeout_s: float,
                  memory_limit_mb: int | None, header_timeout_s: float = 600.0) -> tuple[LeanBackend | None, str]:
    root = Path(project).expanduser()
    if not (root / "lakefile.lean").exists() and not (root / "lakefile.toml").exists():
        return None, f"{root} is not a Lake project (no lakefile)"
    tc = lean_version(cwd=str(root), runner=["lake", "env"])
    if not tc.ok:
        return None, tc.detail
    repl = Path(repl_path) if repl_path else default_repl_path(root)
    if not repl.exists() and shutil.which(str(repl)) is None:
        return None, f"no REPL binary at {repl}"
    return ReplBackend(["lake", "env", str(repl)], header, cwd=str(root), timeout_s=timeout_s,
                       memory_limit_mb=memory_limit_mb, label=f"local {tc.version}",
                       header_timeout_s=header_timeout_s), ""


def docker_backend(header: str, image: str, timeout_s: float,
                   header_timeout_s: float = 600.0) -> tuple[LeanBackend | None, str]:
    if importlib.util.find_spec("docker") is None:
        return None, "the docker package is not installed"
    import docker

    try:
        client = docker.from_env(timeout=5)
        client.ping()
    except Exception as e:  # any failure to reach the daemon means: no container backend
        return None, f"no reachable Docker daemon ({type(e).__name__})"
    try:
        client.images.get(image)
    except Exception:
        return None, f"the image {image} is not built (docker build -t {image} containers/lean)"
    if shutil.which("docker") is None:
        return None, "the docker CLI is needed to attach to the REPL's stdin"
    container = client.containers.run(image, ["sleep", "infinity"], detach=True, remove=True)
    backend = ReplBackend(["docker", "exec", "-i", "-w", "/opt/lean/project", container.id, "lake", "env",
                           "/opt/lean/repl/.lake/build/bin/repl"], header, timeout_s=timeout_s,
                          label=f"container {image}", header_timeout_s=header_timeout_s)
    closer = backend.close

    def close() -> None:
        closer()
        try:
            container.kill()
        except Exception:  # already gone
            pass

    backend.close = close  # type: ignore[method-assign]
    return backend, ""


def open_backend(header: str, lean_project: str | None = None, repl_path: str | None = None,
                 lean_server_url: str | None = None, use_docker: bool = True, image: str = IMAGE,
                 timeout_s: float = 60.0, memory_limit_mb: int | None = None,
                 header_timeout_s: float = 600.0) -> LeanBackend:
    """The first backend that exists, or :class:`NoToolchain` with the how-to paragraph."""
    reasons: list[str] = []
    if lean_server_url:
        return KiminaBackend(lean_server_url, header, timeout_s, os.environ.get("LEAN_SERVER_API_KEY"))
    if lean_project:
        backend, why = local_backend(lean_project, header, repl_path, timeout_s, memory_limit_mb, header_timeout_s)
        if backend:
            return backend
        reasons.append(f"lean_project: {why}")
    else:
        tc = lean_version()
        reasons.append("no lean_project given" + ("" if tc.ok else f"; {tc.detail}"))
    if use_docker:
        backend, why = docker_backend(header, image, timeout_s, header_timeout_s)
        if backend:
            return backend
        reasons.append(why)
    reasons.append("no lean_server_url given")
    raise NoToolchain(HOW_TO_GET_LEAN.format(reasons="; ".join(reasons)))
