import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"arenas": "arenas", "agents": "arenas.agents", "verifiers": "arenas.verifiers",
           "leaderboards": "arenas.leaderboards"}


def test_every_package_folder_is_listed_and_mapped():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set()
    for folder, name in FOLDERS.items():
        assert tool["package-dir"][name] == folder
        for init in (ROOT / folder).rglob("__init__.py"):
            if "node_modules" not in init.parts:
                rel = init.parent.relative_to(ROOT / folder).parts
                found.add(".".join((name, *rel)))
    assert found == set(tool["packages"])


def test_installed_package_has_no_top_level_agents_or_verifiers(tmp_path):
    """Outside the source tree, only the arenas.* names resolve."""
    code = ("import importlib.util as u, arenas.agents, arenas.verifiers;"
            "print(u.find_spec('agents'), u.find_spec('verifiers'), arenas.agents.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "None", "arenas.agents"]
