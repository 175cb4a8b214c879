"""Package list and package data, computed from the folders so that adding an arena (a folder
with an ``arena.toml``) needs no edit here. Everything else lives in pyproject.toml.

``agents/``, ``verifiers/`` and ``leaderboards/`` install under the ``arenas`` namespace: a
top-level ``agents`` or ``verifiers`` import would shadow popular PyPI packages.
"""

import tomllib
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
PACKAGE_DIRS = {"arenas": "arenas", "arenas.agents": "agents", "arenas.verifiers": "verifiers",
                "arenas.leaderboards": "leaderboards"}


def packages() -> list[str]:
    found = []
    for name, folder in PACKAGE_DIRS.items():
        for init in sorted((HERE / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(HERE / folder).parts
            if "node_modules" not in rel:
                found.append(".".join((name, *rel)))
    return found


def arena_package_data() -> dict[str, list[str]]:
    """Each arena ships its manifest and the data files its manifest lists."""
    data = {}
    for manifest in sorted((HERE / "arenas").glob("*/arena.toml")):
        globs = tomllib.loads(manifest.read_text()).get("package_data", [])
        data[f"arenas.{manifest.parent.name}"] = ["arena.toml", *globs]
    return data


# the leaderboard suites are data files next to the leaderboards package
setup(package_dir=PACKAGE_DIRS, packages=packages(),
      package_data={**arena_package_data(), "arenas.leaderboards": ["suites/*.toml"]})
