import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel pip builds from this checkout (the package list comes from the folders)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(out), str(ROOT)], check=True, capture_output=True)
    return zipfile.ZipFile(next(out.glob("arenas-*.whl")))


def test_wheel_holds_every_package_folder_under_the_arenas_namespace(wheel):
    names = set(wheel.namelist())
    for folder, package in {"arenas": "arenas", "agents": "arenas/agents", "verifiers": "arenas/verifiers",
                            "leaderboards": "arenas/leaderboards"}.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "node_modules" not in init.parts:
                rel = init.relative_to(ROOT / folder).as_posix()
                assert f"{package}/{rel}" in names
    assert not any(n.startswith(("agents/", "verifiers/", "leaderboards/")) for n in names)


def test_wheel_ships_each_arena_manifest_and_its_declared_data(wheel):
    names = set(wheel.namelist())
    for manifest in (ROOT / "arenas").glob("*/arena.toml"):
        assert f"arenas/{manifest.parent.name}/arena.toml" in names
    assert any(n.startswith("arenas/memory/workloads/") and n.endswith(".json.gz") for n in names)
    assert "arenas/pokemon/server/package-lock.json" in names


def test_installed_package_has_no_top_level_agents_or_verifiers(tmp_path):
    """Outside the source tree, ``agents`` and ``verifiers`` are never this project's folders (they
    stay free for the PyPI packages of those names, which may be installed beside it)."""
    code = ("import importlib.util as u, arenas.agents, arenas.verifiers;"
            "print([getattr(u.find_spec(n), 'origin', None) for n in ('agents', 'verifiers')], arenas.agents.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert out.returncode == 0, out.stderr
    origins, name = out.stdout.rsplit(" ", 1)
    assert name.strip() == "arenas.agents" and str(ROOT) not in origins
