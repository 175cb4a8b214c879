"""A stand-in for ``VLLM_SERVER_DEV_MODE=1 vllm serve <model> --worker-extension-cls
arenas.agents.llm.vllm_worker.WeightSync`` on 127.0.0.1, for machines without vLLM or a GPU.

It serves completions from its own copy of a transformers model (arenas' small OpenAI server) and
answers vLLM's dev endpoints as vLLM does: ``POST /collective_rpc`` calls the named method on
every worker (``{"results": [...]}``, a 500 when the method fails or does not exist) and
``POST /reset_prefix_cache``. Its workers are vLLM-style classes with :class:`WeightSync` mixed
in, whose ``model_runner.model.load_weights`` copies the Hugging Face-named tensors into the
served model, as vLLM's model loader does.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import torch

from arenas.agents.llm.server import ChatServer, _Handler
from arenas.agents.llm.vllm_worker import WeightSync


class ServedModel:
    """What vLLM's ``model_runner.model`` offers the extension: ``load_weights(weights)``."""

    def __init__(self, target: torch.nn.Module, log: list[str]):
        self.target = target
        self.log = log
        self.received: dict[str, torch.Tensor] = {}

    def load_weights(self, weights: Any) -> set[str]:
        state = self.target.state_dict()
        loaded = set()
        with torch.no_grad():
            for name, tensor in weights:
                if name not in state:
                    raise KeyError(f"unknown weight {name}")
                state[name].copy_(tensor)
                self.received[name] = tensor.clone()
                loaded.add(name)
        return loaded


class StandInWorker:
    """The attributes of vLLM's GPU worker that the extension uses."""

    def __init__(self, model: ServedModel):
        self.device = torch.device("cpu")
        self.model_runner = SimpleNamespace(model=model)


Worker = type("Worker", (StandInWorker, WeightSync), {})
"""vLLM builds its worker class the same way: the extension joins the worker's bases."""


class _DevHandler(_Handler):
    server: StandInVLLM

    def do_POST(self) -> None:
        path = self.path.rstrip("/")
        if path == "/reset_prefix_cache":
            self.server.log.append("reset_prefix_cache")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/collective_rpc":
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            method = body.get("method")
            self.server.log.append(f"rpc:{method}")
            try:
                self.server.before_rpc(method, body.get("args", []))
                results = [getattr(w, method)(*body.get("args", []), **body.get("kwargs", {}))
                           for w in self.server.workers]
            except Exception as e:
                self._send(500, {"error": {"message": f"{type(e).__name__}: {e}"}})
                return
            self._send(200, {"results": results})
        else:
            super().do_POST()


class StandInVLLM(ChatServer):
    """``StandInVLLM(model_dir, workers=2).start()``; ``.model`` is what it serves."""

    def __init__(self, model_dir: str, workers: int = 2):
        from arenas.agents.llm.hf import HFBackend

        backend = HFBackend(model_dir, device="cpu", batch_wait_ms=20)
        super().__init__(backend, model_dir, port=0)
        self.RequestHandlerClass = _DevHandler
        self.model = backend.model
        self.log: list[str] = []
        self.workers = [Worker(ServedModel(self.model, self.log)) for _ in range(workers)]

    def before_rpc(self, method: str, args: list[Any]) -> None:
        """Hook for tests that tamper with a request before the workers see it."""

    def stop(self) -> None:
        super().stop()
        self.backend.close()
