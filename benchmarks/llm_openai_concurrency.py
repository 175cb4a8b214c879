"""``openai`` backend: N concurrent episodes vs N sequential ones against a fixed-latency server.

    python benchmarks/llm_openai_concurrency.py [--episodes 32] [--latency 0.1] [--turns 3]

The server (started here on 127.0.0.1) answers every chat-completions request after a fixed
delay with a canned tool call in vLLM's format (token ids and logprobs included), so the
measurement isolates what the client does: connection handling, the concurrency limit, token
bookkeeping and the rollout engine. The ratio is episodes/s concurrent over sequential, in the
same process (target: >= 20x at 32 episodes).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from arenas.agents.llm.factory import make_llm_factory
from arenas.rollout import RunConfig, iter_rollouts

REPLY = '<tool_call>\n{"name": "list_tables", "arguments": {}}\n</tool_call>'


class FixedLatencyServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, latency: float):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency = latency
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.server.latency)
        # a prompt that grows with the conversation, so the client's sequence bookkeeping runs
        prompt = list(range(100 + 40 * len(body["messages"])))
        ids = [7] * 12
        data = json.dumps({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop",
                         "token_ids": ids, "logprobs": {"content": [
                             {"token": f"token_id:{t}", "logprob": -0.5} for t in ids]}}],
            "prompt_token_ids": prompt,
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(ids)}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def measure(url: str, episodes: int, concurrency: int, turns: int) -> float:
    factory = make_llm_factory("openai", "bench", base_url=url, concurrency=max(concurrency, 1))
    run = RunConfig(arena="sql", agent="openai:bench", n=episodes, concurrency=concurrency,
                    arena_config={"max_turns": turns})
    start = time.perf_counter()
    trajs = list(iter_rollouts(run, factory))
    elapsed = time.perf_counter() - start
    errors = [t.error for t in trajs if t.error]
    if errors:
        raise RuntimeError(errors[0])
    factory.backend.close()
    return len(trajs) / elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    p.add_argument("--turns", type=int, default=3)
    args = p.parse_args()
    server = FixedLatencyServer(args.latency)
    try:
        measure(server.url, 2, 2, 1)  # warm-up
        seq = measure(server.url, args.episodes, 1, args.turns)
        par = measure(server.url, args.episodes, args.episodes, args.turns)
    finally:
        server.shutdown()
        server.server_close()
    print(f"{args.episodes} episodes x {args.turns} turns, {args.latency * 1000:.0f} ms per request")
    print(f"    sequential: {seq:.2f} episodes/s")
    print(f" {args.episodes:>2} concurrent: {par:.2f} episodes/s")
    print(f"speed-up: {par / seq:.1f}x (target >= 20x; ideal {args.episodes}x)")


if __name__ == "__main__":
    main()
