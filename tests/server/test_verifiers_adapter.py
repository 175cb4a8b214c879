"""An arena as a ``verifiers`` environment, played by the package's own rollout loop on a
stand-in OpenAI client (see verifiers_episode.py; run outside the repository root so that the
PyPI ``verifiers`` package is the one imported)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("verifiers_episode.py")


def _installed(distribution: str) -> bool:
    """Whether the PyPI distribution is installed (an import check would find this repository's
    own ``verifiers/`` folder when run from its root)."""
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed("verifiers"), reason="the verifiers package is not installed")
def test_verifiers_rollout_loop_plays_an_arena_scored_by_its_verifier(tmp_path):
    r = subprocess.run([sys.executable, str(SCRIPT)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    rollouts, pool = lines[:-1], lines[-1]
    assert len(rollouts) == 4
    for row in rollouts:
        assert row["turns"] >= 1
        assert row["reward"] == pytest.approx(1.0 + 0.1 / row["turns"])  # exact + efficiency: the arena's verifier
    assert pool["live"] == 0 and pool["idle"] == pool["all"] >= 1
