import json

from arenas.tools import Tool, action_from_openai, as_action, parse_tool_calls, schema_from_function
from arenas.types import Action


def test_text_form_parses_multiple_calls_and_fences():
    text = ('I will look.\n<tool_call>\n{"name": "run_sql", "arguments": {"query": "SELECT 1"}}\n</tool_call>'
            '<tool_call>```json\n{"name": "list_tables", "arguments": {}}\n```</tool_call>')
    calls, errors = parse_tool_calls(text)
    assert errors == []
    assert [c.name for c in calls] == ["run_sql", "list_tables"]
    assert calls[0].arguments == {"query": "SELECT 1"}


def test_malformed_calls_become_errors_not_exceptions():
    for text in ["<tool_call>{not json}</tool_call>", "<tool_call></tool_call>", "<tool_call>[1, 2]</tool_call>",
                 '<tool_call>{"name": "x", "arguments": "{bad"}</tool_call>', '<tool_call>{"name": 3}</tool_call>']:
        calls, errors = parse_tool_calls(text)
        assert calls == [] and len(errors) == 1, text


def test_unclosed_block_at_end_is_parsed():
    calls, errors = parse_tool_calls('<tool_call>{"name": "a", "arguments": {"x": 1}}')
    assert errors == [] and calls[0].arguments == {"x": 1}


def test_native_openai_tool_calls_take_precedence():
    msg = {"content": "thinking", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "run_sql", "arguments": json.dumps({"query": "q"})}}]}
    action = as_action(msg)
    assert action.tool_calls[0].id == "c1" and action.tool_calls[0].arguments == {"query": "q"}
    assert action_from_openai("<tool_call>{\"name\": \"a\"}</tool_call>", []).tool_calls[0].name == "a"


def test_schema_from_signature_and_docstring():
    def run_sql(self, query: str, limit: int = 10, verbose: bool | None = None) -> str:
        """Run a read-only query.

        Args:
            query: the SQL text
            limit: max rows
        """

    tool = schema_from_function(run_sql)
    assert tool.description == "Run a read-only query."
    props = tool.parameters["properties"]
    assert props["query"] == {"type": "string", "description": "the SQL text"}
    assert props["limit"]["type"] == "integer" and props["limit"]["default"] == 10
    assert props["verbose"]["type"] == "boolean"
    assert tool.parameters["required"] == ["query"]


def test_validation_coerces_and_reports():
    tool = Tool("t", "", {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}},
                          "required": ["n"]})
    assert tool.validate({"n": "3"}) == ({"n": 3}, None)
    assert "missing" in tool.validate({})[1]
    assert "unknown" in tool.validate({"n": 1, "zz": 2})[1]
    assert "integer" in tool.validate({"n": "three"})[1]
    assert "JSON object" in tool.validate([1])[1]


def test_as_action_keeps_structured_and_parses_strings():
    assert as_action(3).structured == 3
    a = as_action(Action(text='<tool_call>{"name": "g", "arguments": {}}</tool_call>'))
    assert a.tool_calls[0].name == "g"
