"""REPL process handling: per-request deadlines, restart after a crash, a timeout or the memory
limit, and ids of a dead process refused before they reach Lean."""

import json
import os
import sys
from pathlib import Path

import pytest

from arenas.engines.lean_repl import (
    ReplError,
    ReplProcess,
    ReplSession,
    ReplTimeout,
    encode_request,
    split_blocks,
)

FAKE = [sys.executable, str(Path(__file__).with_name("fake_repl.py"))]


def script(tmp_path, responses):
    path = tmp_path / "responses.json"
    path.write_text(json.dumps(responses))
    return [*FAKE, "script", str(path)], path


def test_requests_are_single_line_json_then_a_blank_line():
    text = encode_request({"cmd": "theorem t :\n  1 = 1 := rfl", "env": 0})
    assert text.endswith("\n\n") and text.count("\n") == 2
    assert json.loads(text) == {"cmd": "theorem t :\n  1 = 1 := rfl", "env": 0}
    assert split_blocks('{"a":\n 1}\n\n\n{"b": 2}\n') == ['{"a":\n 1}', '{"b": 2}']


def test_a_silent_repl_times_out_and_is_killed(tmp_path):
    repl = ReplProcess([*FAKE, "silent"], timeout_s=0.5)
    with pytest.raises(ReplTimeout):
        repl.send({"cmd": "def x := 1"})
    assert not repl.alive
    repl.close()


def test_restart_after_a_timeout_gives_a_new_generation_and_refuses_stale_ids(tmp_path):
    argv, path = script(tmp_path, [{"env": 0}, {"env": 1}])
    repl = ReplProcess(argv, timeout_s=5)
    session = ReplSession(repl, header="import Lean")
    assert session.base_env() == 0 and repl.generation == 1
    pid = repl._proc.pid
    repl.stop()  # as after a timeout
    with pytest.raises(ReplError, match="restarted"):
        session.tactic("rfl", 0, generation=1)
    r = session.command("def y := 2")  # the header is elaborated again in the new process
    assert repl.generation == 2 and repl._proc.pid != pid and r.env == 1
    sent = [json.loads(line) for line in Path(str(path) + ".log").read_text().splitlines()]
    assert sent == [{"cmd": "import Lean"}, {"cmd": "import Lean"}, {"cmd": "def y := 2", "env": 0}]
    repl.close()


def test_a_crash_is_reported_and_the_next_request_starts_a_fresh_process(tmp_path):
    repl = ReplProcess([*FAKE, "crash"], timeout_s=5)
    with pytest.raises(ReplError, match="exited"):
        repl.send({"cmd": "def x := 1"})
    assert not repl.alive
    repl.command = script(tmp_path, [{"env": 0}])[0]
    assert repl.send({"cmd": "def x := 1"}).env == 0 and repl.generation == 2
    repl.close()


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_the_memory_limit_stops_a_runaway_process(tmp_path):
    repl = ReplProcess([*FAKE, "hog"], timeout_s=20, memory_limit_mb=300)
    with pytest.raises(ReplError):
        repl.send({"cmd": "def x := 1"})
    assert not repl.alive
    repl.close()


def test_stop_kills_the_whole_process_group(tmp_path):
    repl = ReplProcess([*FAKE, "silent"], timeout_s=5)
    repl.start()
    pid = repl._proc.pid
    assert os.getpgid(pid) == pid  # the REPL leads its own group, so lake's children die with it
    repl.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_non_json_lines_before_a_response_are_skipped(tmp_path):
    argv = [sys.executable, "-c", "import sys; sys.stdin.readline(); "
            "print('info: building'); print(); print('{\"env\": 4}'); print(); sys.stdout.flush(); "
            "import time; time.sleep(5)"]
    with ReplProcess(argv, timeout_s=5) as repl:
        assert repl.send({"cmd": "def x := 1"}).env == 4
