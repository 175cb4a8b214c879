"""The boundary types field by field: exact dict shapes, the defaults a sparse dict reads as, and
what encode/decode do with each kind of value."""

import array
import json

import numpy as np
import pytest

from arenas.types import (
    WIRE_TYPES,
    WIRE_VERSION,
    Action,
    Observation,
    RewardBreakdown,
    StepResult,
    Task,
    Termination,
    ToolCall,
    decode,
    encode,
    from_wire,
    to_wire,
)


def test_sparse_dicts_read_as_the_defaults():
    assert Task.from_dict({"id": "t", "split": "dev"}) == Task("t", "dev", {}, {}, {})
    call = ToolCall.from_dict({"name": "f"})
    assert (call.name, call.arguments, call.id) == ("f", {}, "")
    assert ToolCall.from_dict({"name": "f", "arguments": None, "id": 7}) == ToolCall("f", {}, "7")
    assert Action.from_dict({}) == Action()
    assert Action.from_dict({"text": None, "meta": None}) == Action()
    assert Observation.from_dict({}) == Observation() and Observation.from_dict({"messages": None}) == Observation()
    back = RewardBreakdown.from_dict({"total": 1})
    assert back == RewardBreakdown(1.0, {}, {}, False) and type(back.total) is float and back.passed is False
    step = StepResult.from_dict({"observation": {}, "reward": 2, "terminated": 1, "truncated": 0})
    assert step == StepResult(Observation(), 2.0, True, False, {})
    assert type(step.reward) is float and step.terminated is True and step.truncated is False
    step = StepResult.from_dict({"observation": {}, "reward": 0, "terminated": 0, "truncated": 1, "info": None})
    assert step.terminated is False and step.truncated is True and step.info == {}


def test_from_dict_keeps_every_given_field():
    d = {"id": "t", "split": "dev", "prompt": {"q": 1}, "reference": {"a": 2}, "meta": {"m": 3}}
    assert Task.from_dict(d) == Task("t", "dev", {"q": 1}, {"a": 2}, {"m": 3})
    back = RewardBreakdown.from_dict({"total": "0.25", "components": {"a": 0.5}, "details": {"d": [1]}, "passed": 1})
    assert back == RewardBreakdown(0.25, {"a": 0.5}, {"d": [1]}, True) and back.passed is True
    action = Action.from_dict({"text": 5, "tool_calls": [{"name": "g", "arguments": {"x": 1}, "id": "c"}],
                               "structured": {"__float__": "nan"}, "parse_errors": ("bad",), "meta": {"l": 1}})
    assert action.text == "5" and action.tool_calls == [ToolCall("g", {"x": 1}, "c")]
    assert action.structured != action.structured and action.parse_errors == ["bad"] and action.meta == {"l": 1}


def test_to_dict_shapes():
    assert Action().to_dict() == {"text": ""}
    assert Action("t", [ToolCall("f", {"x": b"\x00"}, "c")], 0, ["e"], {"v": float("inf")}).to_dict() == {
        "text": "t", "tool_calls": [{"name": "f", "arguments": {"x": {"__bytes__": "AA=="}}, "id": "c"}],
        "structured": 0, "parse_errors": ["e"], "meta": {"v": {"__float__": "inf"}}}
    assert Observation().to_dict() == {"messages": []}
    assert Observation([{"role": "user", "content": "x"}], {}, [b"\x01"]).to_dict() == {
        "messages": [{"role": "user", "content": "x"}], "data": {}, "images": [{"__bytes__": "AQ=="}]}
    assert Task("t", "dev", {"q": (1, 2)}).to_dict() == {"id": "t", "split": "dev", "prompt": {"q": [1, 2]},
                                                         "reference": {}, "meta": {}}
    assert RewardBreakdown(0.5, {"a": float("nan")}).to_dict() == {
        "total": 0.5, "components": {"a": {"__float__": "nan"}}, "details": {}, "passed": False}
    assert StepResult(Observation(), 1, False, True, {"i": np.int32(4)}).to_dict() == {
        "observation": {"messages": []}, "reward": 1.0, "terminated": False, "truncated": True, "info": {"i": 4}}
    assert StepResult(Observation(), float("nan"), True, False).to_dict()["reward"] == {"__float__": "nan"}


def test_openai_tool_call_and_text_view():
    call = ToolCall("search", {"q": "x", "k": float("nan")}, "call_1")
    assert call.to_openai() == {"id": "call_1", "type": "function",
                                "function": {"name": "search", "arguments": '{"q": "x", "k": {"__float__": "nan"}}'}}
    obs = Observation([{"role": "user", "content": "a"}, {"role": "tool", "content": None}, {"role": "user", "content": 3}])
    assert obs.text == "a\n\n\n\n3"


@pytest.mark.parametrize("terminated, truncated, done", [(False, False, False), (True, False, True),
                                                          (False, True, True), (True, True, True)])
def test_a_step_is_done_when_terminated_or_truncated(terminated, truncated, done):
    assert StepResult(Observation(), 0.0, terminated, truncated).done is done


class _Record:
    def to_dict(self):
        return {"v": float("-inf")}


def test_encode_each_kind_of_value():
    assert encode(None) is None and encode(True) is True and encode(False) is False and encode(-3) == -3
    assert encode(Termination.MAX_TURNS) == "max_turns" and json.dumps(encode(Termination.ERROR)) == '"error"'
    assert encode(1.5) == 1.5 and encode(float("-inf")) == {"__float__": "-inf"}
    assert encode({1: {2}, "t": frozenset({3})}) == {"1": [2], "t": [3]}
    assert encode(bytearray(b"\xff")) == {"__bytes__": "/w=="}
    arr = np.arange(6, dtype=np.int16).reshape(2, 3)
    assert encode(arr) == {"__ndarray__": [[0, 1, 2], [3, 4, 5]], "dtype": "int16", "shape": [2, 3]}
    assert encode(np.array([np.nan])) == {"__ndarray__": [{"__float__": "nan"}], "dtype": "float64", "shape": [1]}
    assert encode(np.float32(0.5)) == 0.5 and type(encode(np.bool_(True))) is bool
    assert encode(_Record()) == {"v": {"__float__": "-inf"}} and encode(Task("t", "s", {})) == Task("t", "s", {}).to_dict()
    assert encode(1 + 2j) == "(1+2j)" and encode(object) == "<class 'object'>"
    # array-like only with a dtype: a stdlib array (a tolist but no dtype) is an unknown value
    assert encode(array.array("b", [1])) == "array('b', [1])"


def test_decode_reads_only_exact_tags():
    assert decode({"__bytes__": "AA=="}) == b"\x00" and decode([{"__float__": "inf"}]) == [float("inf")]
    assert decode({"__bytes__": "AA==", "x": 1}) == {"__bytes__": "AA==", "x": 1}
    arr = decode({"__ndarray__": [[1, 2]], "dtype": "uint8", "shape": [2, 1]})
    assert arr.dtype == np.uint8 and arr.shape == (2, 1) and arr.tolist() == [[1], [2]]
    not_a_tag = {"__ndarray__": [1], "dtype": "int8", "shape": [1], "x": {"__float__": "nan"}}
    back = decode(not_a_tag)
    assert back["__ndarray__"] == [1] and back["x"] != back["x"]
    assert decode({"__ndarray__": [1], "dtype": "int8"}) == {"__ndarray__": [1], "dtype": "int8"}
    assert decode("s") == "s" and decode(None) is None


def test_envelopes():
    task = Task("t", "train", {"q": 1})
    assert to_wire(task) == {"wire": WIRE_VERSION, "type": "Task", "data": task.to_dict()}
    assert set(WIRE_TYPES) == {"Task", "ToolCall", "Action", "Observation", "RewardBreakdown", "StepResult"}
    assert from_wire({"wire": WIRE_VERSION - 1, "type": "Task", "data": task.to_dict()}) == task  # older: read
    for version in (None, "1", 1.0, WIRE_VERSION + 1):
        with pytest.raises(ValueError, match=f"unsupported wire version {version!r} "
                                             rf"\(this side reads up to {WIRE_VERSION}\)"):
            from_wire({"wire": version, "type": "Task", "data": {}})
    with pytest.raises(ValueError, match="unsupported wire version None"):
        from_wire({"type": "Task", "data": {}})
    with pytest.raises(ValueError, match="^unknown wire type None$"):
        from_wire({"wire": WIRE_VERSION, "data": {}})
    with pytest.raises(ValueError, match=r"^unknown wire type \['Task'\]$"):
        from_wire({"wire": WIRE_VERSION, "type": ["Task"], "data": {}})
    with pytest.raises(TypeError, match=r"^dict is not a wire type \(Task, ToolCall, Action, Observation, "
                                        r"RewardBreakdown, StepResult\)$"):
        to_wire({})
