"""The recipe `punie demo` runs: SmolLM2-135M learns Punie's tool calls on 2 CPU cores.

Every number below was chosen by measurement on the 2-core x86-64 box Punie is
developed on (MKL preloaded in the heavy children); the measurements are quoted
next to each value. The budget is the whole demo in <= 6 minutes.

Cost model measured with mlx-lm 0.32 on this box (SmolLM2-135M, float32):
- an example is ~160 prompt tokens (system turn listing the 5 tools as one
  signature line each, plus the user request) + ~30 assistant tokens;
- one LoRA step on 4 such examples costs ~5-6 s whether 4 or 8 top layers are
  adapted: the forward pass over all 30 layers and the 49k-row tied LM head
  dominate, so backprop depth is cheap and example length/count is what matters;
- the base model, offered tools, rarely calls one and rambles for its whole token
  budget: 40 held-out cases x 40 tokens took 37 s batched in one process.
"""

from __future__ import annotations

from punie.flywheel.config import DataSpec, EvalSpec, FlywheelConfig

DEMO_MODEL = "smollm2-135m"

DEMO_DATA = DataSpec(
    generate="tools",
    # Enough distinct phrasings that ~40 steps x batch 4 rarely repeat a row.
    n=400,
    seed=0,
    # Generated rows measure 155-295 tokens (mean ~205; multi-step turns that carry a
    # tool result are the longest). This cap only guards against a generator change
    # blowing up step time: the multi-step rows are kept, the tools suite has 10
    # multi-step cases out of 36.
    max_example_tokens=320,
    check_format=True,
)

DEMO_TRAIN = {
    "fine_tune_type": "lora",
    # Top 8 of 30 layers: as cheap per step as 4 (see above) and learns faster.
    "num_layers": 8,
    "rank": 8,
    "scale": 20.0,
    # With scale 20, 1e-3 collapsed every answer to one call within 30 steps;
    # 3e-4 learns the format and the argument copying without collapsing.
    "learning_rate": 3e-4,
    "lr_schedule": "cosine",
    "warmup_steps": 4,
    "iters": 40,
    "batch_size": 4,
    # Train only the assistant turn: the prompt is ~85% of each row's tokens.
    "mask_prompt": True,
    "max_seq_length": 512,
    "steps_per_report": 5,
    "steps_per_eval": 20,
    "val_batches": 2,
    "steps_per_save": 20,
    "seed": 0,
}

DEMO_EVAL = EvalSpec(
    suites=("tools", "no-tool"),
    # A tool call is ~25-35 tokens; the base model's rambling is cut here instead
    # of running to the suite default (96), which bounds the base evaluation.
    max_tokens=48,
    # mlx_lm.server batches up to this many sequences per decode step.
    decode_concurrency=8,
    concurrency=8,
)

# What the demo must show (issue 6): tools +40 points, no-tool at most -5.
DEMO_TARGETS = {"tools": 40.0, "no-tool": -5.0}

DEMO = FlywheelConfig(
    name="demo",
    model=DEMO_MODEL,
    data=DEMO_DATA,
    train=DEMO_TRAIN,
    eval=DEMO_EVAL,
)
