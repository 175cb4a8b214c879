"""A tiny random-init chat model, built locally, for tests and CPU benchmarks.

The tokenizer is a byte-level BPE trained with ``tokenizers`` on text the installation already
has (tool-call examples in the arenas' format and docstrings of Python's standard library), the
model is a small Qwen2-style ``transformers`` model with random weights, and the chat template is
Hermes/Qwen style with ``<tool_call>`` support. Both are written with ``save_pretrained`` so that
everything downstream loads them through the real ``from_pretrained`` path, as it would a
downloaded model. Nothing is fetched from the network.
"""

from __future__ import annotations

import json
from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
"""Control tokens: padding, message start, message end (also the end-of-turn/eos token)."""
MARKUP_TOKENS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"]
"""Single tokens for tool-call and reasoning markup (kept when decoding, as in Qwen models)."""

_TEMPLATE = r"""{%- set ns = namespace(last_user=-1) %}
{%- for m in messages %}{%- if m.role == 'user' %}{%- set ns.last_user = loop.index0 %}{%- endif %}{%- endfor %}
{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}{{- messages[0].content }}{%- else %}{{- 'You are a helpful assistant.' }}{%- endif %}
    {{- '\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' }}
    {%- for tool in tools %}{{- '\n' }}{{- tool | tojson }}{%- endfor %}
    {{- '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' }}
{%- elif messages[0].role == 'system' %}
    {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
    {%- set content = message.content or '' %}
    {%- if message.role == 'assistant' and STRIP_THINK and loop.index0 < ns.last_user and '</think>' in content %}
        {%- set content = content.split('</think>')[-1].lstrip('\n') %}
    {%- endif %}
    {%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>\n' }}
    {%- elif message.role == 'assistant' %}
        {{- '<|im_start|>assistant\n' + content }}
        {%- for tool_call in message.tool_calls or [] %}
            {%- set call = tool_call.function if tool_call.function is defined else tool_call %}
            {%- if content or not loop.first %}{{- '\n' }}{%- endif %}
            {{- '<tool_call>\n{"name": "' + call.name + '", "arguments": ' }}
            {%- if call.arguments is string %}{{- call.arguments }}{%- else %}{{- call.arguments | tojson }}{%- endif %}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == 'tool' %}
        {%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}
        {{- '\n<tool_response>\n' + content + '\n</tool_response>' }}
        {%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}{{- '<|im_end|>\n' }}{%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}
"""


def chat_template(strip_think: bool = False) -> str:
    """The Hermes/Qwen chat template. ``strip_think=True`` drops ``<think>`` blocks of assistant
    messages before the last user message, as Qwen3's template does, which makes the template
    *not* prefix-consistent across turns (useful to exercise the token-accounting guard)."""
    return _TEMPLATE.replace("STRIP_THINK", "true" if strip_think else "false")


_DOC_MODULES = ("json", "re", "collections", "textwrap", "string", "inspect", "functools", "itertools", "sqlite3",
                "statistics", "argparse", "pathlib", "datetime", "decimal", "fractions", "random",
                "math", "csv", "logging", "threading", "subprocess", "shutil", "tempfile", "zipfile", "pickle",
                "copy", "enum", "dataclasses", "contextlib", "heapq", "bisect", "struct", "difflib", "pprint",
                "calendar", "configparser", "uuid", "hashlib", "base64", "html", "queue", "weakref", "operator",
                "glob", "fnmatch", "tokenize", "ast", "traceback", "warnings", "doctest", "timeit", "unittest")
"""Standard-library modules whose docstrings are the English part of the tokenizer's corpus."""


def _corpus() -> list[str]:
    """Training text: tool-call transcripts in the arenas' format plus stdlib docstrings."""
    import importlib
    import inspect

    from arenas.tools import TOOL_CALL_FORMAT

    texts = [TOOL_CALL_FORMAT, chat_template()] + ["<|im_start|>system\n<|im_start|>user\n<|im_start|>assistant\n"] * 50
    words = ["SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "COUNT(*)", "JOIN", "LIMIT", "name", "id",
             "price", "orders", "customers", "guess", "number", "query", "answer", "submit"]
    for i, w in enumerate(words):
        args = {"query": f"{w} {words[(i * 7) % len(words)]} {i}", "number": i}
        texts.append(f"<tool_call>\n{json.dumps({'name': w.lower(), 'arguments': args})}\n</tool_call>")
        texts.append(f"<think>\nI should try {w} next.\n</think>\n<tool_response>\nerror: {w} {i}\n</tool_response>")
    for name in _DOC_MODULES:
        module = importlib.import_module(name)
        texts.append(module.__doc__ or "")
        for _, member in inspect.getmembers(module):
            doc = getattr(member, "__doc__", None) if callable(member) else None
            if isinstance(doc, str):
                texts.append(doc)
    return texts


def _train_tokenizer(vocab_size: int):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_corpus(), trainer=trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in MARKUP_TOKENS])
    return tok


def create_tiny_model(path: str | Path, vocab_size: int = 1024, hidden: int = 64, layers: int = 2,
                      heads: int = 4, seed: int = 0, strip_think: bool = False,
                      max_context: int = 4096) -> Path:
    """Writes a random-init Qwen2-style causal LM and its tokenizer to ``path``; returns the path.

    ``vocab_size`` bounds the BPE vocabulary (markup tokens are added on top); ``hidden`` and
    ``layers`` size the transformer (64/2 gives ~0.1M parameters and builds in a second or two on
    CPU; ``vocab_size=32000, hidden=1024, layers=10, heads=16`` gives ~105M, the corpus yielding
    about 11k tokens); ``strip_think`` selects the template variant
    that removes earlier reasoning; ``max_context`` is the model's position limit.
    """
    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=_train_tokenizer(vocab_size), eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", chat_template=chat_template(strip_think),
                                        model_max_length=max_context, padding_side="left")
    tokenizer.save_pretrained(path)
    eos, pad = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=max(1, heads // 2), max_position_embeddings=max_context,
                         tie_word_embeddings=True, eos_token_id=eos, bos_token_id=pad, pad_token_id=pad,
                         initializer_range=0.1)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = pad
    model.save_pretrained(path)
    (path / "arenas_tiny_model.json").write_text(json.dumps(
        {"vocab_size": vocab_size, "hidden": hidden, "layers": layers, "heads": heads, "seed": seed,
         "strip_think": strip_think, "parameters": sum(p.numel() for p in model.parameters())}))
    return path
