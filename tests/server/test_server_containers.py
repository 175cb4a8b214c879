"""The env server's image and compose file agree with the project: the extras it installs exist,
its Python satisfies ``requires-python``, it runs as non-root with a health check, and the compose
file builds the Dockerfiles that exist (hadolint itself runs in tests/core/test_containers.py)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "containers" / "server" / "Dockerfile"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_server_image_installs_existing_extras_on_a_supported_python():
    text = DOCKERFILE.read_text()
    python = re.search(r"^FROM python:(\d+)\.(\d+)", text, re.M)
    minimum = re.search(r">=\s*(\d+)\.(\d+)", _pyproject()["project"]["requires-python"])
    assert python and minimum and tuple(map(int, python.groups())) >= tuple(map(int, minimum.groups()))
    extras = re.search(r'ARG EXTRAS="([^"]+)"', text).group(1).split(",")
    declared = set(_pyproject()["project"]["optional-dependencies"])
    assert "serve" in extras and set(extras) <= declared
    assert re.search(r"^USER (?!0\b|root\b)\S+", text, re.M)
    assert "HEALTHCHECK" in text and "/health" in text


def test_compose_builds_existing_dockerfiles_with_pinned_images():
    compose = yaml.safe_load((ROOT / "containers" / "compose.yaml").read_text())
    version = _pyproject()["project"]["version"]
    for name, service in compose["services"].items():
        build = service["build"]
        assert (ROOT / "containers" / build["context"] / build["dockerfile"]).resolve().exists(), name
        assert service["image"].endswith(f":{version}"), f"{name}: pin the image to the package version"
        assert all(str(p).startswith("127.0.0.1:") for p in service.get("ports", [])), "publish on loopback only"
