"""The episode record on disk: exact JSON lines, shrinking of oversized lines, tolerant reading and
the single locked writer that repairs a torn tail."""

import json
import logging
import os

import pytest

from arenas import trajectory
from arenas.trajectory import (
    KEEP_CHARS,
    RunLockedError,
    Trajectory,
    TrajectoryWriter,
    Turn,
    episode_key,
    read_trajectories,
)


def _traj(task="t1", text="hello", **kw):
    return Trajectory("guess", 2, task, "test", 7, 1, "oracle",
                      turns=[Turn(0, [{"role": "user", "content": text}], {"text": text}, 0.5, {"k": [text]}, 0.1, 0.2)],
                      final_observation=[{"role": "tool", "content": text}], reward=0.5, **kw)


def test_a_record_is_one_strict_json_line_that_reads_back_equal():
    traj = _traj(text="Zürich → 東京", breakdown={"total": 0.5, "components": {"a": 1.0}}, success=True,
                 termination="submitted", invalid_actions=1, token_counts={"prompt": 3}, timings={"agent_s": 0.1},
                 tokens={"ids": [1, 2], "mask": [0, 1], "logprobs": [-0.5]}, meta={"m": 1})
    line = traj.to_json()
    assert "\n" not in line and "Zürich → 東京" in line  # text kept as written, not \\u-escaped
    assert Trajectory.from_dict(json.loads(line)) == traj
    assert traj.key == "t1|7|1" == episode_key("t1", 7, 1)


def test_non_finite_numbers_are_tagged_not_written_as_bare_nan():
    line = _traj(meta={"x": float("nan"), "y": float("-inf")}).to_json()
    assert "NaN" not in line and "Infinity" not in line
    back = Trajectory.from_dict(json.loads(line))
    assert back.meta["x"] != back.meta["x"] and back.meta["y"] == float("-inf")


def test_a_record_without_turns_reads_as_no_turns():
    d = json.loads(Trajectory("a", 0, "t", "test", 0, 0, "x").to_json())
    del d["turns"]
    assert Trajectory.from_dict(d).turns == []


def test_long_texts_are_cut_with_a_count():
    cut = trajectory._cut
    assert cut("x" * KEEP_CHARS) == "x" * KEEP_CHARS
    assert cut("y" * (KEEP_CHARS + 1)) == "y" * KEEP_CHARS + "... [1 characters cut]"
    assert cut({"a": ["z" * (KEEP_CHARS + 5000), 3, None]}) == {"a": ["z" * KEEP_CHARS + "... [5,000 characters cut]", 3, None]}


def test_a_line_over_the_limit_is_shrunk_and_keeps_the_numbers(monkeypatch):
    long = "é" * (KEEP_CHARS + 10)
    traj = _traj(text=long, tokens={"ids": [1, 2, 3]}, meta={"note": long, "n": 3})
    full = traj.to_json()
    monkeypatch.setattr(trajectory, "MAX_LINE_BYTES", len(full.encode()))
    assert traj.to_json() == full  # at the limit: kept whole
    monkeypatch.setattr(trajectory, "MAX_LINE_BYTES", len(full.encode()) - 1)
    d = json.loads(traj.to_json())
    short = "é" * KEEP_CHARS + "... [10 characters cut]"
    assert d["turns"] == [{"index": 0, "observation": [{"role": "user", "content": short}], "action": {"text": short},
                           "reward": 0.5, "info": {"k": [short]}, "agent_s": 0.1, "env_s": 0.2}]
    assert d["final_observation"] == [{"role": "tool", "content": short}]
    assert d["tokens"] is None and d["meta"] == {"note": short, "n": 3, "shrunk": True}
    assert d["reward"] == 0.5 and d["task_id"] == "t1" and d["schema"] == trajectory.SCHEMA_VERSION
    assert traj.meta == {"note": long, "n": 3}  # the record in memory is untouched


def test_the_limit_counts_bytes_not_characters(monkeypatch):
    traj = _traj(text="東" * (KEEP_CHARS + 1))
    line = Trajectory.to_json(traj)
    assert len(line.encode()) > len(line) + 2 * KEEP_CHARS
    monkeypatch.setattr(trajectory, "MAX_LINE_BYTES", len(line) + KEEP_CHARS)  # fewer chars, more bytes
    assert json.loads(traj.to_json())["meta"] == {"shrunk": True}


def test_reading_skips_blank_torn_and_foreign_lines(tmp_path):
    good = [_traj(f"t{i}") for i in range(3)]
    path = tmp_path / "episodes.jsonl"
    foreign = json.dumps({**json.loads(good[0].to_json()), "unknown_field": 1})
    path.write_text("\n".join(["", good[0].to_json(), "   ", good[1].to_json()[:40], foreign,
                               "  " + good[1].to_json() + "  ", good[2].to_json()[:-1]]) + "\n", encoding="utf-8")
    assert [t.task_id for t in read_trajectories(path)] == ["t0", "t1"]
    path.write_text(good[2].to_json() + "\n\n" + good[0].to_json())  # no final newline: still read
    assert [t.task_id for t in read_trajectories(str(path))] == ["t2", "t0"]


def test_a_line_torn_inside_a_character_is_skipped(tmp_path):
    whole = (_traj("t1", text="日本").to_json() + "\n").encode()
    torn = _traj("t2", text="日本").to_json().encode()
    path = tmp_path / "episodes.jsonl"
    path.write_bytes(whole + torn[: torn.index("日".encode()) + 1])  # ends with one byte of a 3-byte character
    assert [t.task_id for t in read_trajectories(path)] == ["t1"]
    writer = TrajectoryWriter(path)
    writer.close()
    assert path.read_bytes() == whole


def test_a_writer_creates_its_folder_and_flushes_every_episode(tmp_path):
    path = tmp_path / "a" / "b" / "episodes.jsonl"
    writer = TrajectoryWriter(path)
    assert writer.torn_bytes == 0 and (tmp_path / "a" / "b" / "episodes.jsonl.lock").exists()
    writer.write(_traj("t1"))
    assert [t.task_id for t in read_trajectories(path)] == ["t1"]  # on disk before close
    writer.write(_traj("t2"))
    writer.close()
    again = TrajectoryWriter(path)  # closed: the lock is free again; the folder already exists
    again.write(_traj("t3"))
    again.close()
    assert path.read_text(encoding="utf-8").splitlines() == [_traj(t).to_json() for t in ("t1", "t2", "t3")]


def test_a_second_writer_is_refused_without_leaking_a_file(tmp_path):
    path = tmp_path / "episodes.jsonl"
    first = TrajectoryWriter(path)
    try:
        before = len(os.listdir("/proc/self/fd"))
        with pytest.raises(RunLockedError) as refused:
            TrajectoryWriter(path)
        assert len(os.listdir("/proc/self/fd")) == before
        assert str(refused.value) == (f"{path} is being written by another run (lock held on {path}.lock); "
                                      "wait for it or choose another --out")
        assert refused.value.__suppress_context__
    finally:
        first.close()


@pytest.mark.parametrize("content, kept", [
    (b"", b""),
    (b'{"a": 1}\n', b'{"a": 1}\n'),
    (b'{"a": 1}\n{"b"', b'{"a": 1}\n'),
    (b'{"torn without any newline', b""),
    (b"\n" + b"x" * (3 * 2**16 + 5), b"\n"),  # a torn line longer than one read step
    (b"y" * 2**16 + b"\n" + b"x" * 2**16, b"y" * 2**16 + b"\n"),
])
def test_a_torn_tail_is_cut_when_the_file_is_opened_again(tmp_path, caplog, content, kept):
    path = tmp_path / "episodes.jsonl"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="arenas.trajectory"):
        writer = TrajectoryWriter(path)
    writer.close()
    assert path.read_bytes() == kept and writer.torn_bytes == len(content) - len(kept)
    warned = [r.getMessage() for r in caplog.records]
    if writer.torn_bytes:
        assert warned == [f"{path}: cut a torn last line of {writer.torn_bytes} bytes left by an interrupted run"]
    else:
        assert warned == []
