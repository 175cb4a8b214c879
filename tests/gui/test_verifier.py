"""The GUI verifiers are pure: MiniWoB's final status in, a verdict out."""

from arenas.verifiers.gui import CRITIC_RUBRIC, TASK_RUBRIC, critic_metrics, parse_critique


def test_success_is_a_finished_episode_with_positive_raw_reward():
    assert TASK_RUBRIC.score({"done": True, "raw_reward": 1.0}, {}, {}).total == 1.0
    assert TASK_RUBRIC.score({"done": True, "raw_reward": 0.4}, {}, {}).passed
    assert TASK_RUBRIC.score({"done": True, "raw_reward": -1.0}, {}, {}).total == 0.0
    assert TASK_RUBRIC.score({"done": False, "raw_reward": 1.0}, {}, {}).total == 0.0
    assert TASK_RUBRIC.score({}, {}, {}).total == 0.0


def test_raw_reward_component_keeps_partial_credit():
    b = TASK_RUBRIC.score({"done": True, "raw_reward": 0.3}, {}, {})
    assert b.components == {"success": 1.0, "raw_reward": 0.3}


def test_critique_parsing_and_scoring():
    said = parse_critique("thinking... <judgement> Incorrect </judgement><suggestion>click(4)</suggestion>")
    assert said == {"judgement": "incorrect", "suggestion": "click(4)"}
    right = CRITIC_RUBRIC.score({**said, "suggestion_ok": True}, {"label": "incorrect"}, {})
    assert right.total == 1.0 and right.passed
    no_fix = CRITIC_RUBRIC.score({**said, "suggestion_ok": False}, {"label": "incorrect"}, {})
    assert no_fix.total == 0.7 and no_fix.passed
    wrong = CRITIC_RUBRIC.score({"judgement": "correct"}, {"label": "incorrect"}, {})
    assert wrong.total == 0.0
    unparsable = CRITIC_RUBRIC.score(parse_critique("looks fine"), {"label": "correct"}, {})
    assert unparsable.total == 0.0 and not unparsable.passed


def test_critic_metrics():
    m = critic_metrics([("correct", "correct"), ("correct", "incorrect"), ("incorrect", "incorrect"), (None, "correct")])
    assert m["accuracy"] == 0.5 and m["tpr"] == 0.5 and m["tnr"] == 0.5 and m["base_rate_correct"] == 0.5
