"""A local Pokémon Showdown server: install check, config, start/health/stop, team validation.

The pinned ``pokemon-showdown`` npm package lives in ``arenas/pokemon/server/node_modules`` (run
``bash arenas/pokemon/install.sh``). Servers bind 127.0.0.1 on a free port, run in single-process
mode without a REPL or throttles, and are stopped by PID. Servers are shared by the arenas of one
process through :func:`acquire`; a server that has hosted ``restart_after`` battles is retired
(new leases get a fresh one; it stops when its last lease is released), because Showdown's
memory grows with every battle it has hosted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import urllib.request
from pathlib import Path

from arenas.engines.services import Service, ServiceError

SERVER_DIR = Path(__file__).parent / "server"
PACKAGE_DIR = SERVER_DIR / "node_modules" / "pokemon-showdown"
INSTALL_HINT = "run `bash arenas/pokemon/install.sh` (needs Node.js >= 18 and npm)"

CONFIG_JS = """// Written by arenas.pokemon.server: a private, local, single-process server.
exports.bindaddress = '127.0.0.1';
exports.subprocesses = 0;
exports.repl = false;
exports.nothrottle = true;
exports.noipchecks = true;
exports.noguestsecurity = true;
exports.nofswriting = true;
exports.crashguard = true;
exports.watchconfig = false;
exports.reportbattles = false;
exports.reportjoins = false;
exports.backdoor = false;
exports.loguserstats = 0;
exports.logchallenges = false;
exports.nobattlesearch = true;
// `/arenaseed SEED` fixes the PRNG seed of the next battle its sender starts, so that a seeded
// episode replays exactly (the same seed and the same choices give the same battle).
const arenaSeeds = new Map();
exports.commands = {
	arenaseed(target, room, user) {
		if (/^sodium,[0-9a-f]{32,64}$/.test(target.trim())) arenaSeeds.set(user.id, target.trim());
	},
};
exports.startuphook = function () {
	const createBattle = Rooms.createBattle;
	Rooms.createBattle = function (options) {
		for (const player of options.players || []) {
			const id = player.user && player.user.id;
			if (id && arenaSeeds.has(id)) {
				options.seed = arenaSeeds.get(id);
				arenaSeeds.delete(id);
				break;
			}
		}
		return createBattle.apply(this, arguments);
	};
	Chat.loadPlugins();  // now, not lazily on the first message
	const parent = Number(process.env.ARENAS_PARENT_PID || 0);
	if (parent) {  // never outlive the Python process that started this server
		setInterval(() => {
			try {
				process.kill(parent, 0);
			} catch (e) {
				process.exit(0);
			}
		}, 1000).unref();
	}
};
"""


class ShowdownError(RuntimeError):
    """The server cannot be installed, started or reached."""


def node_binary() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise ShowdownError(f"Node.js is not installed (no `node` on PATH): {INSTALL_HINT}")
    return node


def package_dir() -> Path:
    if not (PACKAGE_DIR / "pokemon-showdown").exists() or not (PACKAGE_DIR / "dist").exists():
        raise ShowdownError(f"the pokemon-showdown package is not installed in {SERVER_DIR}: {INSTALL_HINT}")
    return PACKAGE_DIR


def installed_version() -> str:
    import json

    return json.loads((package_dir() / "package.json").read_text())["version"]


def write_config() -> Path:
    """Writes config/config.js (Showdown reads it from its own folder) unless it is current."""
    path = package_dir() / "config" / "config.js"
    if not path.exists() or path.read_text() != CONFIG_JS:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(CONFIG_JS)
        os.replace(tmp, path)
    return path


def validate_team(team: str, battle_format: str) -> list[str]:
    """The server's ``validate-team`` verdict: an empty list when legal, else its problems."""
    proc = subprocess.run([node_binary(), "pokemon-showdown", "validate-team", battle_format], input=team,
                          cwd=package_dir(), capture_output=True, text=True, timeout=60)
    if proc.returncode == 0:
        return []
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    return lines or [f"validate-team exited with status {proc.returncode}"]


_VALIDATE_MANY_JS = """
const {Teams} = require('./dist/sim/teams.js');
const {TeamValidator} = require('./dist/sim/team-validator.js');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const validator = TeamValidator.get(input.format);
console.log(JSON.stringify(input.teams.map(text => {
  const team = Teams.import(text);
  return team ? (validator.validateTeam(team) || []) : ['unreadable team'];
})));
"""


def validate_teams(team_texts: list[str], battle_format: str) -> list[list[str]]:
    """The same check as ``validate-team`` for many teams in one Node process: per team, an empty
    list when legal, else the problems."""
    import json

    proc = subprocess.run([node_binary(), "-e", _VALIDATE_MANY_JS], cwd=package_dir(), text=True,
                          input=json.dumps({"format": battle_format, "teams": team_texts}),
                          capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise ShowdownError(f"team validation failed to run: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class ShowdownServer(Service):
    """One server process (an :class:`~arenas.engines.services.Service`)."""

    def __init__(self, port: int = 0, startup_timeout_s: float = 60.0):
        super().__init__("pokemon-showdown", self._command, cwd=package_dir(), port=port,
                         startup_timeout_s=startup_timeout_s, health=_answers_info,
                         env={"ARENAS_PARENT_PID": str(os.getpid())})
        self.battles = 0
        """Battles started on this server (the restart policy reads it)."""

    @staticmethod
    def _command(port: int) -> list[str]:
        write_config()
        return [node_binary(), "pokemon-showdown", "start", "--skip-build", "--no-security", str(port)]

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/showdown/websocket"

    def start(self) -> ShowdownServer:
        try:
            super().start()
        except ServiceError as e:
            raise ShowdownError(str(e)) from e
        return self


def _answers_info(server: Service) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/showdown/info", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


class Lease:
    """A share of a running server; :meth:`release` it when done."""

    def __init__(self, server: ShowdownServer):
        self.server = server
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            _release(self.server)


_lock = threading.Lock()
_current: ShowdownServer | None = None
_leases: dict[int, int] = {}


def acquire(restart_after: int = 2000) -> Lease:
    """A lease on this process's shared server, started on first use; a server that hosted
    ``restart_after`` battles (or died) is replaced for new leases."""
    global _current
    with _lock:
        if _current is not None and (_current.battles >= restart_after or not _current.running):
            old, _current = _current, None
            if _leases.get(id(old), 0) == 0:
                old.stop()
        if _current is None:
            _current = ShowdownServer().start()
            _leases[id(_current)] = 0
        _leases[id(_current)] += 1
        return Lease(_current)


def _release(server: ShowdownServer) -> None:
    global _current
    with _lock:
        _leases[id(server)] -= 1
        if _leases[id(server)] == 0:
            del _leases[id(server)]
            server.stop()
            if server is _current:
                _current = None
