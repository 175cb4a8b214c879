"""The LLM agent's history, think handling, budgets and token accounting."""

import pytest

from arenas.agent import AgentStop, EpisodeContext
from arenas.agent_spec import make_agent_factory
from arenas.agents.llm.agent import LLMAgent, LLMConfig, split_reasoning
from arenas.agents.llm.factory import split_options
from arenas.rollout import RunConfig, iter_rollouts
from arenas.types import Observation
from tests.agents.conftest import ScriptedBackend, forward_logprobs
from tests.core.guess_arena import GuessArena

GUESS_3 = '<tool_call>\n{"name": "guess", "arguments": {"number": 3}}\n</tool_call>'


def _context(arena, seed=0):
    return EpisodeContext("guess", "t", "train", seed, tools=[t.to_openai() for t in arena.tools()])


def _play(agent, arena, task_index=0, max_steps=10):
    obs = arena.reset(task=arena.tasks("train")[task_index], seed=0)
    agent.reset(_context(arena))
    actions = []
    for _ in range(max_steps):
        try:
            action = agent.act(obs)
        except AgentStop as stop:  # the agent ends the episode (its context is full)
            actions.append(stop)
            break
        actions.append(action)
        result = arena.step(action)
        obs = result.observation
        if result.done:
            break
    return actions


def test_token_sequence_is_what_the_backend_saw(tokenizer):
    backend = ScriptedBackend(tokenizer, [GUESS_3])
    agent = LLMAgent(backend, LLMConfig())
    actions = _play(agent, GuessArena(max_turns=3))
    assert [a.tool_calls[0].arguments for a in actions] == [{"number": 3}] * 3
    rec = agent.episode_record()
    ids, mask, lps = rec["tokens"]["ids"], rec["tokens"]["mask"], rec["tokens"]["logprobs"]
    assert len(ids) == len(mask) == len(lps)
    # every prompt continues the sequence, and every reply follows its prompt with mask 1
    pos = 0
    for prompt, action in zip(backend.prompts, actions, strict=True):
        assert ids[:len(prompt)] == prompt and set(mask[pos:len(prompt)]) <= {0}
        reply = action.meta["completion_ids"]
        assert ids[len(prompt):len(prompt) + len(reply)] == reply
        assert mask[len(prompt):len(prompt) + len(reply)] == [1] * len(reply)
        assert action.meta["prompt_len"] == len(prompt) and action.meta["finish_reason"] == "stop"
        assert "prompt_ids" not in action.meta  # the sequence holds it: trajectories stay linear
        pos = len(prompt) + len(reply)
    assert pos == len(ids)
    assert all(lp == 0.0 for lp, m in zip(lps, mask, strict=True) if m == 0)
    assert all(lp == -0.5 for lp, m in zip(lps, mask, strict=True) if m == 1)
    assert rec["template_mismatch"] == 0 and rec["text_only"] is False
    assert rec["token_counts"] == {"prompt": sum(map(len, backend.prompts)), "completion": sum(mask)}
    assert "<tools>" in tokenizer.decode(backend.prompts[0])  # tools rendered natively by the template


def test_think_is_kept_in_the_trajectory_and_kept_or_stripped_in_history(tokenizer):
    reply = "<think>\nmaybe <tool_call>{\"name\": \"guess\", \"arguments\": {\"number\": 9}}</tool_call>\n</think>\n" \
            + GUESS_3
    for think in ("keep", "strip"):
        backend = ScriptedBackend(tokenizer, [reply])
        agent = LLMAgent(backend, LLMConfig(think=think))
        actions = _play(agent, GuessArena(max_turns=2))
        first = actions[0]
        assert first.text.strip() == GUESS_3 and [c.arguments for c in first.tool_calls] == [{"number": 3}]
        assert "maybe" in first.meta["reasoning"]
        stored = [m["content"] for m in agent.history if m["role"] == "assistant"]
        assert all(("<think>" in c) == (think == "keep") for c in stored)
        assert "<think>" in tokenizer.decode(agent.episode_record()["tokens"]["ids"])


def test_template_mismatch_keeps_sampled_tokens(tiny_strip_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_strip_model)
    backend = ScriptedBackend(tok, ["<think>\nhmm\n</think>\nI guess 3."])
    agent = LLMAgent(backend, LLMConfig())
    _play(agent, GuessArena(max_turns=3))  # text replies -> user feedback messages -> template strips <think>
    rec = agent.episode_record()
    assert rec["template_mismatch"] == 2 and {m["cause"] for m in rec["mismatches"]} == {"template"}
    ids = rec["tokens"]["ids"]
    for prompt in backend.prompts:  # the model was always prompted with the kept sequence
        assert ids[:len(prompt)] == prompt
    assert tok.decode(ids).count("<think>") == 3


def test_episode_budget_and_context_length_stop_the_model(tokenizer):
    arena = GuessArena(max_turns=4)
    backend = ScriptedBackend(tokenizer, ["I guess 3."])
    agent = LLMAgent(backend, LLMConfig(max_episode_tokens=330, max_tokens=8, min_turn_tokens=4))
    actions = _play(agent, arena)
    rec = agent.episode_record()
    assert rec["stop_reason"] == "episode_budget" and len(rec["tokens"]["ids"]) <= 330
    assert isinstance(actions[-1], AgentStop) and actions[-1].reason == "episode_token_budget"
    assert all(p.max_tokens <= 8 for p in backend.params)
    agent = LLMAgent(ScriptedBackend(tokenizer, ["x"], max_context=100), LLMConfig())
    actions = _play(agent, GuessArena(max_turns=2))
    assert agent.episode_record()["stop_reason"] == "context_length"
    assert len(actions) == 1 and actions[0].reason == "context_exhausted"


def test_system_prompt_and_text_tools(tokenizer):
    backend = ScriptedBackend(tokenizer, [GUESS_3])
    agent = LLMAgent(backend, LLMConfig(system_prompt="Be quick.", tool_mode="text"))
    _play(agent, GuessArena(max_turns=2))
    system = agent.history[0]
    assert system["role"] == "system" and system["content"].startswith("Be quick.")
    assert '"name": "guess"' in system["content"] and "<tool_call>" in system["content"]
    assert "# Tools" not in tokenizer.decode(backend.prompts[0])  # not rendered by the template


def test_split_reasoning():
    assert split_reasoning("<think>a</think>\nb") == ("a", "b")
    assert split_reasoning("<think>cut off") == ("cut off", "")
    assert split_reasoning("plain") == (None, "plain")
    assert split_reasoning("opened by the template</think>\n\nanswer") == ("opened by the template", "answer")


def test_options_are_split_and_checked():
    backend, config = split_options("hf", {"device": "cpu", "temperature": 0.5, "concurrency": 8,
                                           "base_url": None, "timeout_s": 3})
    assert backend == {"device": "cpu", "max_batch": 8} and config == {"temperature": 0.5}
    with pytest.raises(ValueError, match="unknown option 'temprature'"):
        split_options("openai", {"temprature": 1})


def test_hf_rollouts_reproduce_logprobs_under_a_forward_pass(tiny_model, hf_backend):
    from transformers import AutoModelForCausalLM

    agent_factory = lambda: LLMAgent(hf_backend, LLMConfig(max_tokens=12))  # noqa: E731
    cfg = RunConfig(arena="guess", agent=f"hf:{tiny_model}", n=6, concurrency=6)
    before = len(hf_backend.batcher.batch_sizes)
    trajs = list(iter_rollouts(cfg, agent_factory, make_arena=lambda: GuessArena(max_turns=2)))
    assert len(trajs) == 6 and all(t.error is None for t in trajs)
    assert max(hf_backend.batcher.batch_sizes[before:]) > 1  # concurrent episodes shared generate calls
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    for t in trajs:
        ids, mask, lps = t.tokens["ids"], t.tokens["mask"], t.tokens["logprobs"]
        assert sum(mask) == t.token_counts["completion"] == sum(len(turn.action["meta"]["completion_ids"])
                                                                for turn in t.turns)
        ref = forward_logprobs(model, ids)
        sampled = [(r, lp) for r, lp, m in zip(ref, lps, mask, strict=True) if m]
        assert max(abs(r - lp) for r, lp in sampled) < 1e-3
        assert t.turns[0].action["meta"]["latency"] > 0


def test_spec_builds_hf_agents(tiny_model):
    factory = make_agent_factory(f"hf:{tiny_model}", max_tokens=4, device="cpu", think="strip")
    try:
        agent = factory()
        assert isinstance(agent, LLMAgent) and agent.config.think == "strip" and agent.config.max_tokens == 4
        assert factory().backend is agent.backend
    finally:
        factory.backend.close()
    with pytest.raises(ValueError, match="think"):
        make_agent_factory(f"hf:{tiny_model}", think="drop")


def test_observation_messages_are_not_mutated(tokenizer):
    agent = LLMAgent(ScriptedBackend(tokenizer, ["hi"]), LLMConfig(system_prompt="S"))
    agent.reset(EpisodeContext("a", "t", "train", 0))
    msgs = [{"role": "system", "content": "arena"}, {"role": "user", "content": "u"}]
    agent.act(Observation(messages=msgs))
    assert msgs[0]["content"] == "arena" and agent.history[0]["content"] == "S\n\narena"


def test_a_token_reply_without_logprobs_makes_the_episode_text_only(tokenizer):
    """The trainer must never take a made-up 0.0 for the sampler's log-probability."""

    class NoLogprobs(ScriptedBackend):
        def generate(self, prompt_ids, params):
            completion = super().generate(prompt_ids, params)
            completion.logprobs = None
            return completion

    agent = LLMAgent(NoLogprobs(tokenizer, ["I guess 3."]), LLMConfig())
    _play(agent, GuessArena(max_turns=2))
    record = agent.episode_record()
    assert record["text_only"] is True and record["tokens"] is None
