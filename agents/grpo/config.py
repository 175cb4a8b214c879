"""The trainer's configuration: every knob of a GRPO run, documented where it is declared."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from arenas.agents.grpo.losses import LOSS_VARIANTS
from arenas.distributed import check_ray_generator


@dataclass
class ArenaMix:
    """One arena of a (possibly multi-arena) training mix."""

    arena: str
    """Registered arena id (``arenas.make``)."""
    weight: float = 1.0
    """Relative share of this arena's tasks in each step's batch."""
    split: str = "train"
    """Split the training tasks are drawn from."""
    config: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of ``arenas.make`` (e.g. a small workload, ``max_turns``)."""


@dataclass
class GRPOConfig:
    """A GRPO run over multi-turn episodes."""

    model: str
    """Directory of a transformers causal LM (and its tokenizer + chat template) to train."""
    arenas: list[ArenaMix] = field(default_factory=list)
    """Arenas to train on; tasks of each step are drawn from them in proportion to ``weight``."""
    out: str = "runs/grpo"
    """Run directory: metrics.jsonl, TensorBoard events, checkpoints, learning_curve.png, model/."""

    # ---- sampling ---------------------------------------------------------------------------
    steps: int = 10
    """Training steps; each step generates one batch and applies ``mu`` passes of updates to it."""
    tasks_per_step: int = 4
    """Tasks (groups) per step."""
    group_size: int = 4
    """G: episodes per task, all with the same task and seed, differing only in sampling."""
    seed: int = 0
    """Seeds task selection, episode seeds, sampling and the model's dropout."""
    temperature: float = 1.0
    """Sampling temperature of the generator. The backends record the tempered logprobs of the
    sampled tokens and the learner divides its logits by the same temperature, so the importance
    ratio describes the sampling policy at any temperature (as TRL and verl do)."""
    top_p: float = 1.0
    """Nucleus sampling of the generator (1.0 keeps the ratio against the sampler exact)."""
    max_new_tokens: int = 64
    """Cap on the tokens of one agent turn."""
    concurrency: int = 32
    """Episodes in flight at once (the generator batches their requests; one arena per episode thread)."""
    generator: str = "hf"
    """Agent backend that generates episodes (``<generator>:<model>`` agent spec). ``hf`` on the
    training device shares the trained model object (no copy); any other backend gets the new
    weights after each update through its ``load_weights`` hook or its in-process ``model``."""
    generator_options: dict[str, Any] = field(default_factory=dict)
    """Extra agent/backend options (``device``/``dtype`` give ``hf`` its own copy, e.g. bf16 for
    generation while training keeps fp32 master weights)."""
    ray_address: str | None = None
    """Play each step's episodes on a Ray cluster (its address, ``auto``, or ``local``), as
    ``arenas run --ray`` does: actors make their own arenas and reach the generator over the
    network, so it must be a model server (``generator="openai"`` with a ``base_url``; None: threads here)."""
    weight_sync_dir: str | None = None
    """With ``generator="openai"`` against a ``vllm serve`` (``base_url`` option): after each update
    the weights are written here as safetensors and the server's workers load them (see
    :mod:`arenas.agents.llm.weight_sync`; the server must be able to read this directory)."""
    weight_sync_dtype: str | None = None
    """dtype of the pushed weights (e.g. ``bfloat16``, half the bytes of fp32; None: as trained)."""
    vllm_sleep: bool = False
    """With the in-process ``vllm`` generator on the training GPU: create the engine with sleep
    mode and put it to sleep (level 1: weights to CPU, KV cache freed) during each update, waking
    it before the weights are loaded and the next episodes are generated."""
    dynamic_sampling: bool | None = None
    """Drop groups whose rewards are all equal (no signal; DAPO) and sample more tasks, up to
    ``max_resample_rounds`` extra rounds, to refill the batch (None: on for ``dapo`` only)."""
    max_resample_rounds: int = 2
    """Extra generation rounds a step may spend refilling a batch thinned by dynamic sampling."""
    async_rollouts: bool = False
    """Generate the next step's batch in a background thread while this step's update runs
    (one-step off-policy): the batch of step k+1 is played by the weights after update k-1. The
    ratio is taken against the sampler's recorded logprobs, which corrects for the lag (with
    ``tis_cap``, the capped weight p_learner / p_sampler carries it), so ``old_logprobs='policy'``
    without ``tis_cap`` is refused. A generator that would share the trained model object (``hf``
    on the training device) gets its own copy, synced between updates, never during one.
    ``policy_version`` and ``staleness`` (updates since the batch's weights) are logged."""

    # ---- loss -------------------------------------------------------------------------------
    loss: str = "grpo"
    """Loss variant: ``grpo`` (sequence mean), ``dr_grpo`` (constant normaliser), ``dapo`` (token mean)."""
    scale_rewards: bool | None = None
    """Divide advantages by the group's reward std (None: on for ``grpo`` and ``dapo``, off for
    ``dr_grpo``, which removes it as a difficulty bias)."""
    eps_low: float = 0.2
    """Lower clip range of the importance ratio (1 - eps_low)."""
    eps_high: float | None = None
    """Upper clip range (1 + eps_high); None: 0.28 for ``dapo`` (clip-higher), else ``eps_low``."""
    kl_coef: float = 0.0
    """Weight of the k3 KL penalty to the frozen initial model (0 = no reference model kept)."""
    old_logprobs: str = "sampler"
    """Ratio denominator: ``sampler`` (logprobs recorded at generation, corrects for a generator
    that lags the policy) or ``policy`` (recomputed by the trainer before this batch's updates)."""
    max_agent_tokens: int | None = None
    """Agent-token budget of an episode: the overlong rules' limit and dr_grpo's constant
    normaliser (None: no overlong limit; dr_grpo then divides by the generation budget
    ``max_new_tokens`` x the arenas' largest ``max_turns``, see :meth:`generation_budget`)."""
    tis_cap: float = 0.0
    """Truncated importance sampling (0 = off): the ratio is taken against the learner's own
    logprobs before the update and each token's loss is weighted by
    ``min(p_learner / p_sampler, tis_cap)``, correcting for a sampler that differs numerically
    from the learner (bf16 vs fp32, vLLM vs transformers). ``mismatch_kl`` is logged either way."""
    overlong_buffer: int = 0
    """DAPO soft overlong penalty: reward ramps down to -1 over the last this-many agent tokens
    before ``max_agent_tokens`` (0 = off)."""
    overlong_filter: bool = False
    """Mask out of the loss the episodes that hit ``max_agent_tokens`` or were truncated by the turn cap."""
    max_seq_len: int = 4096
    """Episodes longer than this many tokens are cut (their tail is not trained on)."""
    pack_tokens: int = 0
    """Pack episodes into rows of at most this many tokens, one row per micro-batch, with position
    ids restarting per episode and attention kept within each episode: no compute on padding,
    same loss and gradients (0 = off: ``micro_batch_size`` padded episodes per micro-batch)."""

    # ---- optimisation -----------------------------------------------------------------------
    learning_rate: float = 1e-5
    """AdamW learning rate (0 runs the whole loop without changing the model: a control run)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    adam_betas: tuple[float, float] = (0.9, 0.99)
    """AdamW betas."""
    warmup_steps: int = 0
    """Linear learning-rate warm-up, in optimizer steps."""
    mu: int = 1
    """Passes of updates over each step's batch (μ in the GRPO paper)."""
    minibatches: int = 1
    """Optimizer steps per pass: the batch is split into this many mini-batches."""
    micro_batch_size: int = 8
    """Sequences per forward/backward; mini-batches are accumulated from micro-batches."""
    max_grad_norm: float = 1.0
    """Gradient-norm clip (0 = off)."""
    bf16: bool | None = None
    """bf16 autocast with fp32 master weights (None: on when CUDA is available)."""
    gradient_checkpointing: bool = False
    """Recompute activations in backward to save memory."""
    device: str | None = None
    """Training device (None: cuda when available, else cpu)."""
    lora_rank: int = 0
    """Train LoRA adapters of this rank with peft instead of all weights (0 = full fine-tuning)."""
    lora_alpha: int = 32
    """LoRA scaling numerator."""
    lora_target: str = "all-linear"
    """Modules LoRA adapts (peft ``target_modules``)."""
    log_entropy: bool = True
    """Compute the policy's entropy on agent tokens each update (costs one softmax per token)."""

    # ---- bookkeeping ------------------------------------------------------------------------
    save_every: int = 0
    """Checkpoint every this many steps (0 = only at the end)."""
    keep_checkpoints: int = 2
    """Checkpoints kept on disk (the oldest are deleted)."""
    resume: bool = False
    """Continue from the newest checkpoint under ``out``."""
    tensorboard: bool = True
    """Also write TensorBoard events under ``out/tb``."""
    eval_tasks: int = 0
    """Fixed tasks of the eval split played ``group_size`` times each, before training, every
    ``eval_every`` steps and after training (0 = off). Their ids must be disjoint from the
    training tasks' ids: a held-out measure, the learning curve's main line."""
    eval_split: str = "dev"
    """Split of the evaluation tasks."""
    eval_every: int = 0
    """Evaluate every this many steps (0 = only before and after training)."""
    max_dead_steps: int = 5
    """Stop training when this many consecutive steps had no group with unequal rewards (no
    learning signal); 0 = never stop. Every step with dead groups logs a warning with their share."""
    save_trajectories: bool = True
    """Append every train and eval episode (without token ids) to ``out/trajectories/*.jsonl``."""

    def __post_init__(self) -> None:
        if self.loss not in LOSS_VARIANTS:
            raise ValueError(f"loss must be one of {LOSS_VARIANTS}, got {self.loss!r}")
        if self.old_logprobs not in ("sampler", "policy"):
            raise ValueError(f"old_logprobs must be 'sampler' or 'policy', got {self.old_logprobs!r}")
        if self.pack_tokens < 0:
            raise ValueError(f"pack_tokens must be >= 0 (0 = no packing), got {self.pack_tokens}")
        if self.async_rollouts and self.old_logprobs == "policy" and not self.tis_cap > 0:
            raise ValueError("async_rollouts trains on batches generated one update earlier: the ratio needs the "
                             "sampler's logprobs (old_logprobs='sampler') or tis_cap > 0")
        if self.ray_address:
            check_ray_generator(self.generator, self.generator_options)
        if self.vllm_sleep and self.async_rollouts:
            raise ValueError("vllm_sleep puts the generator to sleep during updates; async_rollouts generates during them")
        if self.group_size < 2:
            raise ValueError("group_size must be at least 2 (advantages are relative to the group)")
        self.arenas = [a if isinstance(a, ArenaMix) else ArenaMix(**a) for a in self.arenas]
        self.adam_betas = tuple(self.adam_betas)
        # per-loss defaults: each variant as its paper specifies it, unless set explicitly
        if self.scale_rewards is None:
            self.scale_rewards = self.loss != "dr_grpo"
        if self.eps_high is None:
            self.eps_high = 0.28 if self.loss == "dapo" else self.eps_low
        if self.dynamic_sampling is None:
            self.dynamic_sampling = self.loss == "dapo"
        if self.temperature <= 0:
            raise ValueError("temperature must be > 0: GRPO needs sampled, not greedy, episodes")

    def generation_budget(self, max_turns: int | None = None) -> int:
        """Dr. GRPO's constant: the most agent tokens an episode may generate (``max_agent_tokens``,
        else ``max_new_tokens`` per turn x ``max_turns``, at most ``max_seq_len``). Independent of
        prompt and tool tokens, so the effective learning rate does not vary with prompt length."""
        if self.max_agent_tokens:
            return int(self.max_agent_tokens)
        return min(self.max_new_tokens * max(int(max_turns or 1), 1), self.max_seq_len)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
