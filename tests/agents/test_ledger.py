"""The token ledger on hand-made token sequences: which tokens are the agent's (mask 1, with the
sampler's logprobs) and which are the environment's (mask 0, logprob 0), and how a prompt that
does not continue the sequence is recorded and re-aligned."""

import pytest

from arenas.agents.llm.ledger import TokenLedger


def _ledger(prompt, reply, logprobs):
    ledger = TokenLedger()
    ledger.add_prompt(prompt)
    ledger.add_reply(reply, logprobs)
    return ledger


def test_environment_tokens_are_masked_out_with_zero_logprobs():
    ledger = TokenLedger()
    ledger.add_environment([5, 6, 7])
    assert ledger.ids == [5, 6, 7] and ledger.mask == [0, 0, 0] and ledger.logprobs == [0.0, 0.0, 0.0]
    assert ledger.last_reply == [] and ledger.mismatches == []


def test_reply_tokens_are_the_agents_with_the_sampler_logprobs():
    ledger = _ledger([1, 2], [10, 11, 12], [-0.5, -1, -2.25])
    assert ledger.ids == [1, 2, 10, 11, 12]
    assert ledger.mask == [0, 0, 1, 1, 1]
    assert ledger.logprobs == [0.0, 0.0, -0.5, -1.0, -2.25]
    assert all(type(x) is float for x in ledger.logprobs)
    assert ledger.last_reply == [10, 11, 12]


def test_last_reply_is_a_copy_of_the_sampled_tokens():
    reply = [10, 11]
    ledger = _ledger([1], reply, [-1.0, -1.0])
    reply.append(99)
    assert ledger.last_reply == [10, 11]


def test_a_reply_replaces_the_previous_last_reply():
    ledger = _ledger([1], [10, 11], [-1.0, -1.0])
    ledger.add_reply([20], [-3.0])
    assert ledger.last_reply == [20] and ledger.mask == [0, 1, 1, 1]


@pytest.mark.parametrize("ids, logprobs", [([1, 2], [-1.0]), ([1], [-1.0, -2.0]), ([], [-1.0])])
def test_reply_with_a_logprob_per_token_missing_or_extra_is_rejected(ids, logprobs):
    ledger = TokenLedger()
    with pytest.raises(ValueError, match=f"{len(ids)} sampled tokens but {len(logprobs)} logprobs"):
        ledger.add_reply(ids, logprobs)
    assert ledger.ids == [] and ledger.mask == [] and ledger.logprobs == []


def test_a_consistent_prompt_appends_only_its_new_tail_as_environment_tokens():
    ledger = _ledger([1, 2, 3], [10, 11], [-1.0, -2.0])
    ledger.add_prompt([1, 2, 3, 10, 11, 4, 5])
    assert ledger.ids == [1, 2, 3, 10, 11, 4, 5]
    assert ledger.mask == [0, 0, 0, 1, 1, 0, 0]
    assert ledger.logprobs == [0.0, 0.0, 0.0, -1.0, -2.0, 0.0, 0.0]
    ledger.add_prompt([1, 2, 3, 10, 11, 4, 5])  # nothing new
    assert len(ledger.ids) == len(ledger.mask) == len(ledger.logprobs) == 7


def test_divergence_is_the_first_position_where_the_prompt_stops_continuing_the_sequence():
    ledger = _ledger([1, 2, 3], [10, 11], [-1.0, -2.0])
    assert ledger.divergence([1, 2, 3, 10, 11]) is None
    assert ledger.divergence([1, 2, 3, 10, 11, 7]) is None
    assert ledger.divergence([1, 2, 9, 10, 11, 7]) == 2
    assert ledger.divergence([1, 2, 3, 10]) == 4  # a prompt shorter than the sequence
    assert ledger.divergence([0]) == 0


def test_mismatch_records_turn_position_cause_and_resync():
    ledger = TokenLedger()
    ledger.add_mismatch(3, 17)
    ledger.add_mismatch(4, 5, cause="tokenization", resynced=False)
    assert ledger.mismatches == [
        {"turn": 3, "position": 17, "cause": "template", "resynced": True},
        {"turn": 4, "position": 5, "cause": "tokenization", "resynced": False},
    ]


def test_resync_appends_the_tail_after_the_last_occurrence_of_the_reply_end():
    ledger = _ledger([1, 2, 3], [10, 11], [-1.0, -2.0])
    # the server re-rendered the first prompt differently ([1, 9, 3]); the reply's tokens appear
    # twice, the tail after the last occurrence is the new environment message
    prompt = [1, 9, 3, 10, 11, 50, 10, 11, 60, 61]
    assert ledger.resync(prompt, turn=1) is True
    assert ledger.ids == [1, 2, 3, 10, 11, 60, 61]
    assert ledger.mask == [0, 0, 0, 1, 1, 0, 0]
    assert ledger.logprobs == [0.0, 0.0, 0.0, -1.0, -2.0, 0.0, 0.0]
    assert ledger.mismatches == [{"turn": 1, "position": 1, "cause": "unknown", "resynced": True}]


def test_resync_finds_the_anchor_at_the_very_start_of_the_prompt():
    ledger = _ledger([], [10, 11], [-1.0, -2.0])
    assert ledger.resync([10, 11, 70], turn=2) is True
    assert ledger.ids == [10, 11, 70] and ledger.mask == [1, 1, 0]


def test_resync_anchors_on_the_last_eight_reply_tokens_only():
    reply = list(range(100, 112))  # 12 tokens; the server re-tokenized the first four
    ledger = _ledger([1], reply, [-1.0] * 12)
    prompt = [1, 7, 7, 7, 7, *reply[4:], 80, 81]
    assert ledger.resync(prompt, turn=1) is True
    assert ledger.ids[-2:] == [80, 81] and ledger.mask[-2:] == [0, 0]
    # the whole reply rewritten except its last seven tokens: no anchor
    ledger = _ledger([1], reply, [-1.0] * 12)
    assert ledger.resync([1, 0, *reply[5:], 80], turn=1) is False


def test_resync_without_anchor_appends_nothing_and_records_the_failure():
    ledger = _ledger([1, 2], [10, 11], [-1.0, -2.0])
    assert ledger.resync([1, 2, 10, 12, 13], turn=4) is False
    assert ledger.ids == [1, 2, 10, 11] and ledger.mask == [0, 0, 1, 1]
    assert ledger.mismatches == [{"turn": 4, "position": 3, "cause": "unknown", "resynced": False}]


def test_resync_before_any_reply_has_no_anchor():
    ledger = TokenLedger()
    ledger.add_prompt([1, 2])
    assert ledger.resync([3, 4], turn=1) is False
    assert ledger.ids == [1, 2]
    assert ledger.mismatches == [{"turn": 1, "position": 0, "cause": "unknown", "resynced": False}]


def test_resync_position_is_the_divergence_point():
    ledger = _ledger([1, 2], [10, 11], [-1.0, -2.0])
    assert ledger.resync([5, 2, 10, 11, 90], turn=1) is True
    assert ledger.mismatches[0]["position"] == 0
    ledger = _ledger([1, 2], [10, 11], [-1.0, -2.0])
    assert ledger.resync([1, 2, 10, 11], turn=1) is True  # continues the sequence: nothing new
    assert ledger.mismatches[0]["position"] == 0 and ledger.ids == [1, 2, 10, 11]


def test_to_dict_is_a_copy_of_ids_mask_and_logprobs():
    ledger = _ledger([1], [10], [-0.5])
    out = ledger.to_dict()
    assert out == {"ids": [1, 10], "mask": [0, 1], "logprobs": [0.0, -0.5]}
    out["ids"].append(3)
    out["mask"].append(3)
    out["logprobs"].append(3.0)
    assert ledger.ids == [1, 10] and ledger.mask == [0, 1] and ledger.logprobs == [0.0, -0.5]
