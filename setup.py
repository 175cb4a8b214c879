"""Package list and package data, computed from the folders so that adding an arena (a folder
with an ``arena.toml``) needs no edit here. Everything else, the ``package-dir`` mapping of
``agents/``, ``verifiers/`` and ``leaderboards/`` under ``arenas`` included, is in pyproject.toml.
"""

import tomllib
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
PACKAGE_DIRS = tomllib.loads((HERE / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


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
setup(packages=packages(),
      package_data={**arena_package_data(), "arenas.leaderboards": ["suites/*.toml"]})
