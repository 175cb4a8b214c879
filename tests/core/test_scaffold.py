"""`arenas new`: a scaffolded arena in a temporary folder is discovered and passes the kit with
no edit outside its folder."""

import subprocess
import sys

import pytest

from arenas import registry
from arenas.scaffold import scaffold
from arenas.testing import check_arena


@pytest.fixture
def scaffolded(tmp_path, monkeypatch):
    scaffold("dice_sums", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    registry._REGISTRY.pop("dice_sums", None)


def test_a_scaffolded_arena_is_discovered_and_passes_the_kit(scaffolded):
    found = registry.discover(scaffolded)
    assert [s.id for s in found] == ["dice_sums"]
    report = check_arena("dice_sums")
    assert report["episodes"]["oracle"] == [1.0, 1.0, 1.0]
    assert max(report["episodes"]["random"]) < 1.0


def test_the_scaffolded_test_file_runs_green(scaffolded):
    code = ("import sys, arenas; from arenas import registry; registry.discover(sys.argv[1]);"
            "import pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', sys.argv[1] + '/dice_sums']))")
    out = subprocess.run([sys.executable, "-c", code, str(scaffolded)], capture_output=True, text=True,
                         cwd=scaffolded, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "1 passed" in out.stdout


def test_scaffold_refuses_bad_ids_and_existing_folders(tmp_path):
    with pytest.raises(ValueError, match="identifier"):
        scaffold("Bad-Id", tmp_path)
    scaffold("ok", tmp_path)
    with pytest.raises(FileExistsError):
        scaffold("ok", tmp_path)
