"""The common LLM agent and its model backends (``openai:``, ``vllm:``, ``hf:`` agent specs).

One :class:`LLMAgent` per episode keeps the chat history and shares a backend made once by
:func:`~arenas.agents.llm.factory.make_llm_factory`:

- ``hf`` (:mod:`.hf`): transformers ``generate`` behind a micro-batching queue, CPU or CUDA;
- ``vllm`` (:mod:`.vllm_backend`): in-process ``vllm.LLM`` behind the same queue;
- ``openai`` (:mod:`.remote`): any OpenAI-compatible server (``vllm serve``, or
  ``arenas serve-model`` for a transformers model on CPU, :mod:`.server`); with ``api=chat``
  (default) the server renders the chat template, with ``api=completions tokenizer=<folder>``
  the agent renders it and sends token ids, which makes the backend a token backend.

Token backends (``hf``, ``vllm``, ``openai`` with ``api=completions``) are given the prompt as
token ids rendered here, so a trajectory is exactly what the model saw.

Token data, per turn, in ``Action.meta``::

    prompt_len      int | None         length of the prompt the model was given this turn: the
                                       prompt is ``tokens["ids"][:prompt_len]`` of the episode record
    prompt_ids      list[int]          only when the episode sequence does not hold the prompt
                                       (a template mismatch); keeps trajectories linear in turns
    completion_ids  list[int] | None   the sampled tokens (end-of-turn token included when sampled)
    logprobs        list[float] | None log p(token) under the unmodified model (temperature 1)
    finish_reason   "stop" | "length" | "context_length" | "episode_budget"
    latency         float              seconds for the request, queueing included
    reasoning       str                the <think> block, when the reply had one

Per episode, ``LLMAgent.episode_record()`` (stored by the rollout engine: ``tokens`` in
``Trajectory.tokens``, ``token_counts`` in ``Trajectory.token_counts``, the rest in
``Trajectory.meta``)::

    tokens            {"ids": [...], "mask": [...], "logprobs": [...]}, or None when text_only.
                      The whole episode as one sequence: every prompt's new tokens (mask 0,
                      logprob 0.0) and every reply's sampled tokens (mask 1, their logprobs), in
                      order. With token backends it is exactly what the model saw, so a forward
                      pass over ``ids`` reproduces ``logprobs`` where mask is 1.
    token_counts      {"prompt": int, "completion": int}  prompt tokens processed over all turns,
                      tokens sampled
    text_only         bool   the backend gave no token ids/logprobs (e.g. a hosted API)
    template_mismatch int    turns whose re-rendered chat template did not continue the sequence;
                      the sampled tokens were kept and only the new messages appended
    mismatches        [{"turn", "position", "cause": "template"|"tokenization"|"unknown", "resynced"}]
    stop_reason       None | "context_length" | "episode_budget"  (see LLMConfig.min_turn_tokens)
    finish_reasons    {"stop": n, "length": n}  ("length" = the reply hit max_tokens)
    errors            server trouble survived in this episode (retried requests, refusals)

With chat backends (``openai``, ``api=chat``) the server renders the template itself; after a mismatch the reply's
logprobs are conditioned on the server's rendering, so trainers that need exact logprobs should
drop or re-score episodes with ``template_mismatch > 0`` from those backends. ``arenas
check-template <model>`` tells in advance whether a model's template is prefix-consistent.
"""

from arenas.agents.llm.agent import LLMAgent, LLMConfig
from arenas.agents.llm.backend import BackendError, Completion, SamplingParams
from arenas.agents.llm.factory import make_llm_factory

__all__ = ["BackendError", "Completion", "LLMAgent", "LLMConfig", "SamplingParams", "make_llm_factory"]
