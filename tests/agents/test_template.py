import json

from typer.testing import CliRunner

from arenas.agents.llm.cli import app
from arenas.agents.llm.template import (
    SCRIPT,
    SCRIPT_TOOLS,
    check_prefix_consistency,
    env_delta,
    first_divergence,
    render,
    render_ids,
)
from arenas.agents.llm.tiny_model import MARKUP_TOKENS


def test_tiny_model_loads_through_from_pretrained(tiny_model, tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert model.config.vocab_size == len(tokenizer)
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.padding_side == "left"
    for markup in MARKUP_TOKENS:  # one token each, kept when decoding
        ids = tokenizer.encode(markup, add_special_tokens=False)
        assert len(ids) == 1 and tokenizer.decode(ids) == markup


def test_template_renders_tools_and_tool_calls(tokenizer):
    text = render(tokenizer, SCRIPT[:4], SCRIPT_TOOLS)
    assert '"name": "run_sql"' in text.split("\n</tools>")[0]
    assert "<tool_call>\n{\"name\": \"run_sql\"" in text
    assert "<|im_start|>user\n<tool_response>\ncount\n42\n</tool_response><|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")
    native = [{"role": "user", "content": "q"},
              {"role": "assistant", "content": "", "tool_calls": [
                  {"id": "c", "type": "function", "function": {"name": "submit", "arguments": '{"answer": "1"}'}}]}]
    assert '<tool_call>\n{"name": "submit", "arguments": {"answer": "1"}}\n</tool_call>' in render(tokenizer, native)


def test_prefix_consistency_check(tokenizer, tiny_strip_model):
    from transformers import AutoTokenizer

    good = check_prefix_consistency(tokenizer)
    assert good.consistent and good.supports_tools and good.turns_checked == 3 and not good.problems
    bad = check_prefix_consistency(AutoTokenizer.from_pretrained(tiny_strip_model))
    assert not bad.consistent and bad.problems
    assert "<think>" in bad.problems[0]["expected"] and "<think>" not in bad.problems[0]["rendered"]


def test_check_template_command(tiny_model, tiny_strip_model):
    runner = CliRunner()
    ok = runner.invoke(app, ["check-template", tiny_model])
    assert ok.exit_code == 0 and "is prefix-consistent" in ok.output
    bad = runner.invoke(app, ["check-template", tiny_strip_model, "--json"])
    assert bad.exit_code == 1 and json.loads(bad.output)["consistent"] is False


def test_env_delta_continues_a_reply_exactly(tokenizer):
    history = SCRIPT[:3]
    prompt = render_ids(tokenizer, history[:2], SCRIPT_TOOLS)
    reply = tokenizer.encode(history[2]["content"] + "<|im_end|>", add_special_tokens=False)
    new = [SCRIPT[3]]
    delta = env_delta(tokenizer, new, SCRIPT_TOOLS, reply_closed=True)
    assert prompt + reply + delta == render_ids(tokenizer, history + new, SCRIPT_TOOLS)
    cut = reply[:-1]  # a reply cut at max_tokens: the template's end-of-turn token comes from the delta
    delta = env_delta(tokenizer, new, SCRIPT_TOOLS, reply_closed=False)
    assert prompt + cut + delta == render_ids(tokenizer, history + new, SCRIPT_TOOLS)


def test_first_divergence():
    assert first_divergence([1, 2], [1, 2, 3]) is None
    assert first_divergence([1, 2, 3], [1, 5, 3]) == 1
    assert first_divergence([1, 2, 3], [1, 2]) == 2


def test_end_of_turn_is_read_off_the_template(tiny_model, tokenizer):
    from transformers import AutoTokenizer

    from arenas.agents.llm.template import end_of_turn, stop_ids

    assert end_of_turn(tokenizer) == ("<|im_end|>", tokenizer.convert_tokens_to_ids("<|im_end|>"))
    base_style = AutoTokenizer.from_pretrained(tiny_model, eos_token="<|endoftext|>")  # eos != end of turn
    eot = end_of_turn(base_style)
    assert eot[0] == "<|im_end|>" and set(stop_ids(base_style)) == {eot[1], base_style.eos_token_id}
    report = check_prefix_consistency(base_style)
    assert report.consistent and report.end_of_turn == "<|im_end|>"
