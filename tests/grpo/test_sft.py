"""The SFT warm start: conversations rebuilt from trajectories, reply-only masks, imitation."""

import torch

from arenas.agents.grpo.sft import examples_from_trajectories, sft, tokenize_examples
from arenas.trajectory import Trajectory, Turn


def _traj(replies, reward=1.0):
    turns = [Turn(index=i, observation=[{"role": "user", "content": f"state {i}"}], action={"text": r}, reward=0.0)
             for i, r in enumerate(replies)]
    return Trajectory(arena="a", arena_version=0, task_id="t", split="train", seed=0, rollout=0, agent="oracle",
                      reward=reward, turns=turns)


def test_examples_rebuild_each_turns_conversation_and_skip_low_reward_episodes():
    ex = examples_from_trajectories([_traj(["go", "stop"]), _traj(["bad"], reward=-1.0)], min_reward=0.0)
    assert [reply for _, reply in ex] == ["go", "stop"]
    assert ex[1][0] == [{"role": "user", "content": "state 0"}, {"role": "assistant", "content": "go"},
                        {"role": "user", "content": "state 1"}]


def test_sft_trains_only_on_replies_and_the_model_then_prefers_them(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    examples = [([{"role": "user", "content": "which?"}], "slow")] * 4
    (ids, mask), = tokenize_examples(tok, examples[:1])
    reply = tok("slow" + tok.eos_token, add_special_tokens=False)["input_ids"]
    assert ids[-len(reply):] == reply and mask == [0] * (len(ids) - len(reply)) + [1] * len(reply)

    def reply_logprob(path):
        model = AutoModelForCausalLM.from_pretrained(path)
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0, :-1], -1)
        picked = logp.gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
        return float(picked[-len(reply):].sum())

    stats = sft(tiny_model_dir, examples, tmp_path / "sft", steps=20, learning_rate=1e-2, batch_size=4)
    assert stats["last_loss"] < stats["first_loss"]
    assert reply_logprob(tmp_path / "sft") > reply_logprob(tiny_model_dir) + 1.0
