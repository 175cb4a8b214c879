"""Conversational search: turn context-dependent questions into queries a retriever can answer.

After ConvSearch-R1 (Zhu et al., 2025). A task is one conversation over real Wikipedia passages;
its question turns only make sense with the conversation before them ("How is it related to the
canal?"). Two modes (config ``mode``):

- ``rewrite`` (the paper's task): each step answers the current question with
  ``<think>…</think><rewrite>…</rewrite>`` (or a ``rewrite`` tool call); the rewrite is run
  through BM25 and scored by the rank of the gold passage. The conversation then goes on, the
  gold answer of the question just handled shown in the history.
- ``agent``: a search agent with ``search``, ``open`` and ``answer`` tools and a turn budget;
  each ``answer(passage_id, text)`` closes the current question.

Rewards (``arenas.verifiers.search``): per question the rank-incentive reward in [0, 1]; the
episode total is the mean over questions, each paid as its share when answered (unanswered
questions score 0). Reported components: MRR@10, Recall@10/@100, NDCG@3, format, length cap,
copied text; in agent mode also the cited passage and the answer span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from arenas.arena import ArenaConfig, ToolArena, ToolError
from arenas.conversation import Conversation
from arenas.engines.search import load_index
from arenas.search import baselines, corpus
from arenas.tools import TOOL_CALL_FORMAT, tool
from arenas.types import Action, Observation, RewardBreakdown, StepResult, Task, Termination
from arenas.verifiers.search import agent_rubric, check_rewrite, judge, make_rubric, parse_reply

REWRITE_INSTRUCTIONS = """You help a search engine answer a user's questions in a conversation.
The user's latest question depends on the conversation before it (pronouns, "the film", "what
about ..."). Rewrite it into a self-contained search query for a BM25 keyword retriever over
Wikipedia passages. You are rewarded by how high the retriever ranks the passage that answers it.
Keep the query short (at most {max_words} words) and do not paste earlier answers into it.
Reply with your reasoning and the query:
<think>your reasoning</think>
<rewrite>the self-contained query</rewrite>
(A tool call rewrite(query) is accepted too.)"""

AGENT_INSTRUCTIONS = """You are a search agent answering a user's questions in a conversation,
using a BM25 keyword retriever over Wikipedia passages. Each question depends on the conversation
before it. Tools: search(query, k) lists passages (id, title, snippet), open(passage_id) shows a
passage in full, answer(passage_id, text) answers the current question citing the passage that
answers it. You have {max_turns} turns for the whole conversation.
{tool_format}"""

REWRITE_TOOLS = ("rewrite",)
AGENT_TOOLS = ("search", "open", "answer")
MODES = ("rewrite", "agent")


@dataclass
class SearchConfig(ArenaConfig):
    mode: str = "rewrite"
    """``rewrite``: one query rewrite per question (ConvSearch-R1); ``agent``: search/open/answer tools."""
    require_think: bool = False
    """Count a rewrite reply without a ``<think>…</think>`` block as a format violation."""
    format_penalty: float = 0.0
    """Reward subtracted for a format violation (the reply holds no usable rewrite)."""
    max_rewrite_words: int = 40
    """Rewrites longer than this many words score 0 (pasting the history or a bag of words)."""
    copy_ngram: int = 6
    """Rewrites repeating this many consecutive words of an earlier answer score 0."""
    snippet_chars: int = 160
    """Characters of passage text in a search result (agent mode)."""
    max_k: int = 20
    """Largest k a search may ask for (agent mode)."""


def _question_turns(task: Task) -> list[int]:
    return [i for i, t in enumerate(task.prompt["turns"]) if t["scored"]]


def context_for(task: Task, question: int, cfg: SearchConfig) -> dict[str, Any]:
    """The verifier's context for question ``question``: the index, the answers shown before it
    and the conversation's entity titles (for the copy guard)."""
    position = _question_turns(task)[question]
    seen = tuple(t["answer"] for t in task.prompt["turns"][:position])
    return {"index": str(corpus.index_folder()), "seen": seen, "titles": tuple(task.reference["entities"]),
            "max_rewrite_words": cfg.max_rewrite_words, "copy_ngram": cfg.copy_ngram}


def rewrite_candidate(action: Action, require_think: bool) -> dict[str, Any]:
    """What a rewrite-mode reply submits: ``{"rewrite": str | None, "error": str | None}``."""
    if action.tool_calls or action.parse_errors:
        calls = [c for c in action.tool_calls if c.name == "rewrite"]
        if action.parse_errors or len(action.tool_calls) != 1 or len(calls) != 1:
            problems = list(action.parse_errors) or ["make exactly one rewrite(query) tool call"]
            return {"rewrite": None, "error": "; ".join(problems)}
        args = calls[0].arguments
        if set(args) != {"query"}:
            return {"rewrite": None, "error": "rewrite takes exactly one argument, query"}
        rewrite, error = check_rewrite(args["query"])
    else:
        rewrite, error = parse_reply(action.text, require_think)
    return {"rewrite": rewrite, "error": error}


@cache
def _tasks(split: str) -> tuple[Task, ...]:
    out = []
    for conv in corpus.conversations(split):
        turns = conv["turns"]
        prompt = {"turns": [{"utterance": t["utterance"], "answer": t["answer"], "scored": t["scored"]}
                            for t in turns]}
        reference = {"entities": conv["entities"],
                     "questions": [{k: t[k] for k in ("gold", "rewrite", "answer_span", "entity", "raw_rank",
                                                      "rewrite_rank")} for t in turns if t["scored"]]}
        meta = {"kinds": [t["kind"] for t in turns if t["scored"]], "shifts": len(conv["entities"]) - 1}
        out.append(Task(conv["id"], split, prompt, reference, meta))
    return tuple(out)


class SearchArena(ToolArena):
    """Conversational query rewriting (and search) over Wikipedia passages, rewarded by BM25 rank."""

    id = "search"
    version = 0
    description = ("Conversational search after ConvSearch-R1: rewrite context-dependent questions into "
                   "self-contained queries (or search with tools) over 18,729 Wikipedia passages; "
                   "rewarded by the BM25 rank of the gold passage.")
    reward_components = tuple(dict.fromkeys(make_rubric().names + agent_rubric().names))
    policies = ("oracle", "raw", "concat", "heuristic", "random")
    config_class = SearchConfig

    def __init__(self, **config: Any):
        super().__init__(**config)
        if self.cfg.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.cfg.mode!r}")
        self.rubric = make_rubric(self.cfg.format_penalty) if self.cfg.mode == "rewrite" else agent_rubric()
        self.index = load_index(corpus.index_folder())

    # ---- tasks --------------------------------------------------------------------------
    def tasks(self, split: str) -> Sequence[Task]:
        return _tasks(split)

    def _tool_table(self):
        names = REWRITE_TOOLS if self.cfg.mode == "rewrite" else AGENT_TOOLS
        return {k: v for k, v in super()._tool_table().items() if k in names}

    def first_observation(self, task: Task) -> Observation:
        self.conversation = Conversation(task.reference["questions"], self.rubric.names)
        self.shown = 0  # prompt turns shown so far
        self.last_query: str | None = None
        text = (REWRITE_INSTRUCTIONS.format(max_words=self.cfg.max_rewrite_words) if self.cfg.mode == "rewrite"
                else AGENT_INSTRUCTIONS.format(max_turns=self.max_turns, tool_format=TOOL_CALL_FORMAT))
        return Observation([{"role": "system", "content": text},
                            {"role": "user", "content": self._news()}])

    def _news(self, answered: bool = False) -> str:
        """The conversation since the last question: its answer, context turns, the next question."""
        turns = self.task.prompt["turns"]
        lines = []
        if answered:
            lines.append(f"Answer: {turns[self.shown - 1]['answer']}")
        while self.shown < len(turns) and not turns[self.shown]["scored"]:
            lines += [f"User: {turns[self.shown]['utterance']}", f"Answer: {turns[self.shown]['answer']}"]
            self.shown += 1
        if self.shown < len(turns):
            lines.append(f"Current question: {turns[self.shown]['utterance']}")
            self.shown += 1
        return "\n".join(lines)

    def history(self) -> tuple[list[tuple[str, str]], str]:
        """What the agent has seen: earlier (question, answer) pairs and the current question."""
        turns = self.task.prompt["turns"][:self.shown]
        return [(t["utterance"], t["answer"]) for t in turns[:-1]], turns[-1]["utterance"] if turns else ""

    # ---- rewrite mode ---------------------------------------------------------------------
    def _step(self, action: Action) -> StepResult:
        if self.cfg.mode == "agent":
            return super()._step(action)
        candidate = rewrite_candidate(action, self.cfg.require_think)
        feedback = self._feedback(candidate)
        info: dict[str, Any] = {"invalid_action": candidate["error"] is not None,
                                "rank": judge(candidate, self._reference(), self._context())["rank"]}
        if candidate["error"]:
            info["invalid_reason"] = candidate["error"]
        self._record(candidate)
        messages = [{"role": "user", "content": "\n".join(x for x in (feedback, self._news(True)) if x)}]
        return StepResult(Observation(messages), 0.0, False, False, info)

    def _reference(self) -> dict[str, Any]:
        return self.task.reference["questions"][self.conversation.index]

    def _context(self) -> dict[str, Any]:
        return context_for(self.task, self.conversation.index, self.cfg)

    def _feedback(self, candidate: dict[str, Any]) -> str:
        if candidate.get("error"):
            return f"Invalid action: {candidate['error']}. This question scores 0."
        return ""

    def _record(self, candidate: dict[str, Any]) -> None:
        breakdown = self.rubric.score(candidate, self._reference(), self._context())
        self.add_reward(self.conversation.answer(candidate, breakdown))
        if self.conversation.finished:
            self.finish(self.conversation.breakdown(), Termination.COMPLETED)

    @tool
    def rewrite(self, query: str) -> str:
        """Submit the self-contained search query for the current question (rewrite mode).

        Args:
            query: the rewritten, self-contained query
        """
        raise ToolError("handled by the rewrite step")  # rewrite mode scores the call in _step

    # ---- agent mode -----------------------------------------------------------------------
    @tool
    def search(self, query: str, k: int = 5) -> str:
        """Search the Wikipedia passages with BM25; lists passage ids, titles and snippets.

        Args:
            query: keywords to search for
            k: how many passages to list (1 to 20)
        """
        rewrite, error = check_rewrite(query)
        if error:
            raise ToolError(error)
        self.last_query = rewrite
        hits = self.index.top(rewrite, max(1, min(int(k), self.cfg.max_k)))
        if not hits:
            return "no passage matches"
        texts = corpus.passages()
        return "\n".join(f"[{pid}] {texts[pid].title}: {texts[pid].text[:self.cfg.snippet_chars]}"
                         for pid, _ in hits)

    @tool
    def open(self, passage_id: str) -> str:
        """Show one passage in full.

        Args:
            passage_id: a passage id from the search results, like w01234.1
        """
        passage = corpus.passages().get(str(passage_id).strip().strip("[]"))
        if passage is None:
            raise ToolError(f"no passage {passage_id!r}; use an id from the search results")
        return f"[{passage.id}] {passage.title}\n{passage.text}"

    @tool
    def answer(self, passage_id: str, text: str) -> str:
        """Answer the current question, citing the passage that answers it.

        Args:
            passage_id: the id of the passage that answers the question
            text: the answer in a few words
        """
        pid = str(passage_id).strip().strip("[]")
        if pid not in corpus.passages():
            raise ToolError(f"no passage {passage_id!r}; use an id from the search results")
        candidate = {"rewrite": self.last_query, "error": None if self.last_query else "no search before answering",
                     "cited": pid, "text": text}
        self._record(candidate)
        self.last_query = None
        if self.conversation.finished:
            return "Answer recorded. The conversation is complete."
        return "Answer recorded.\n" + self._news(True)

    # ---- scoring ----------------------------------------------------------------------------
    def _on_forced_end(self) -> dict[str, Any]:
        self.finish(self.conversation.breakdown(), Termination.MAX_TURNS)
        return {}

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        """Recomputes the breakdown from the recorded actions with the verifier alone."""
        conversation = Conversation(task.reference["questions"], self.rubric.names)
        last_query = None
        for turn in turns:
            action = Action.from_dict(turn["action"])
            if self._refuse(action) is not None:  # refused by the harness: the arena never saw it
                continue
            if self.cfg.mode == "rewrite":
                candidates = [rewrite_candidate(action, self.cfg.require_think)]
            else:
                candidates, last_query = self._agent_candidates(action, last_query)
            for candidate in candidates:
                if conversation.finished:
                    break
                q = conversation.index
                conversation.answer(candidate, self.rubric.score(candidate, task.reference["questions"][q],
                                                                 context_for(task, q, self.cfg)))
        return conversation.breakdown()

    def _agent_candidates(self, action: Action, last_query: str | None) -> tuple[list[dict], str | None]:
        """The answers an agent-mode action submitted, replayed as the tools accepted them."""
        table = self._tool_table()
        out = []
        for call in action.tool_calls:
            if call.name not in table:
                continue
            args, error = table[call.name][1].validate(call.arguments)
            if error:
                continue
            if call.name == "search":
                rewrite, err = check_rewrite(args["query"])
                last_query = rewrite if not err else last_query
            elif call.name == "answer":
                pid = str(args["passage_id"]).strip().strip("[]")
                if pid in self.index.position:
                    out.append({"rewrite": last_query, "error": None if last_query else "no search before answering",
                                "cited": pid, "text": args["text"]})
                    last_query = None
        return out, last_query

    # ---- baselines ----------------------------------------------------------------------
    def policy(self, name: str):
        if name not in self.policies:
            return None
        seed = int(self.np_random.integers(2**31))
        return baselines.make_policy(name, self, seed)
