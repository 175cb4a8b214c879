"""Run as a script (not collected): plays the guess arena through the ``verifiers`` adapter on a
stand-in OpenAI client and prints one JSON line per rollout. A script, because from the repository
root the project's ``verifiers/`` folder would shadow the PyPI package of the same name."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))  # after site-packages: `verifiers` stays the PyPI package

import tests.server.conftest  # noqa: E402,F401  (registers the guess-served arena)
from arenas.integrations.verifiers import load_environment  # noqa: E402


class _Completions:
    """A binary search over the guess arena's higher/lower hints, answering with native tool calls."""

    def __init__(self):
        self.calls = 0

    async def create(self, model, messages, tools=None, **kwargs):
        from openai.types.chat import ChatCompletion

        self.calls += 1
        assert tools and tools[0]["function"]["name"] == "guess"
        lo, hi, last = 0, 15, None
        for m in messages:
            if m.get("role") == "assistant" and m.get("tool_calls"):
                call = m["tool_calls"][0]
                fn = call["function"] if isinstance(call, dict) else call.function
                last = json.loads(fn["arguments"] if isinstance(fn, dict) else fn.arguments)["number"]
            elif m.get("role") == "tool" and last is not None:
                if m["content"] == "higher":
                    lo = last + 1
                elif m["content"] == "lower":
                    hi = last - 1
        return ChatCompletion.model_validate({
            "id": f"c{self.calls}", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": None, "tool_calls": [{
                    "id": f"call{self.calls}", "type": "function",
                    "function": {"name": "guess", "arguments": json.dumps({"number": (lo + hi) // 2})}}]}}]})


class StandInClient:
    def __init__(self):
        self.chat = type("Chat", (), {"completions": _Completions()})()


if __name__ == "__main__":
    env = load_environment("guess-served", split="test", n=4, seed=0)
    results = env.evaluate_sync(client=StandInClient(), model="stand-in", num_examples=4)
    for out in results["outputs"]:
        turns = sum(1 for m in out["completion"] if dict(m).get("role") == "assistant")
        print(json.dumps({"reward": out["reward"], "turns": turns}))
    print(json.dumps({"live": len(env.live), "idle": len(env.pool.idle), "all": len(env.pool.all)}))
