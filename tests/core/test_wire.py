"""The wire format: every boundary type survives JSON, values JSON cannot hold included."""

import json
import math

import numpy as np
import pytest

from arenas.types import (
    WIRE_VERSION,
    Action,
    Observation,
    RewardBreakdown,
    StepResult,
    Task,
    ToolCall,
    decode,
    encode,
    from_wire,
    to_wire,
)


def _trip(obj):
    return from_wire(json.loads(json.dumps(to_wire(obj), allow_nan=False)))


def test_every_wire_type_round_trips_through_strict_json():
    task = Task("t1", "test", {"q": "why?"}, {"answer": 42}, {"tags": ["a"]})
    assert _trip(task) == task
    action = Action("hi", [ToolCall("f", {"x": [1, 2]}, "c0")], structured=np.arange(3), parse_errors=["e"],
                    meta={"logprobs": [float("nan"), -1.5]})
    back = _trip(action)
    assert back.tool_calls == action.tool_calls and back.parse_errors == ["e"] and back.text == "hi"
    assert np.array_equal(back.structured, np.arange(3)) and back.structured.dtype == np.arange(3).dtype
    assert math.isnan(back.meta["logprobs"][0]) and back.meta["logprobs"][1] == -1.5
    obs = Observation([{"role": "user", "content": "x"}], {"mask": np.ones(4, dtype=np.int8), "v": 0.5},
                      [b"\x89PNG\r\n"])
    back = _trip(obs)
    assert back.messages == obs.messages and back.images == [b"\x89PNG\r\n"]
    assert back.data["mask"].dtype == np.int8 and back.data["v"] == 0.5
    breakdown = RewardBreakdown(0.5, {"a": 1.0, "b": float("-inf")}, {"why": "x"}, True)
    back = _trip(breakdown)
    assert back.total == 0.5 and back.passed and back.components["b"] == float("-inf")
    step = StepResult(obs, float("inf"), True, False, {"k": np.float32(2.5)})
    back = _trip(step)
    assert back.reward == float("inf") and back.terminated and not back.truncated and back.info == {"k": 2.5}


def test_encode_tags_only_what_json_cannot_hold():
    assert encode({"a": 1, "b": [1.5, "x", None, True]}) == {"a": 1, "b": [1.5, "x", None, True]}
    assert encode(float("nan")) == {"__float__": "nan"} and encode((1, 2)) == [1, 2]
    assert encode(np.int64(3)) == 3 and decode(encode(b"ab")) == b"ab"
    assert decode({"__float__": "x", "other": 1}) == {"__float__": "x", "other": 1}  # not a tag: two keys


def test_a_newer_wire_version_is_refused():
    envelope = to_wire(Task("t", "train", {}))
    with pytest.raises(ValueError, match="unsupported wire version"):
        from_wire({**envelope, "wire": WIRE_VERSION + 1})
    with pytest.raises(ValueError, match="unknown wire type"):
        from_wire({**envelope, "type": "Nope"})
    with pytest.raises(TypeError, match="not a wire type"):
        to_wire(object())
