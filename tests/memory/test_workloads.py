"""The packaged workloads: well-formed, varied, small, and reproducible from their script."""

import numpy as np
import pytest

from arenas.memory import workloads
from arenas.memory.cost import touching_ops


def test_packaged_workloads_cover_the_model_families_and_sizes():
    names = workloads.names()
    assert len(names) >= 26
    for family in ("gpt", "bert", "resnet", "unet", "mixer", "mlp", "vit", "t5", "lstm", "mobilenet", "diffusion",
                   "moe"):
        assert sum(n.startswith(family) for n in names) >= (2 if family != "mixer" else 1), family
    counts = [workloads.load(n).n_buffers for n in names]
    assert min(counts) >= 50 and max(counts) >= 1000
    total = sum((workloads.WORKLOAD_DIR / f"{n}.json.gz").stat().st_size for n in names)
    assert total < 5 << 20


@pytest.mark.parametrize("name", workloads.names())
def test_workload_is_well_formed(name):
    wl = workloads.load(name)
    assert (wl.size > 0).all() and (wl.start < wl.end).all() and (wl.end <= wl.n_ops).all()
    defined = wl.def_op >= 0
    assert (wl.start[defined] == wl.def_op[defined]).all()
    for b in range(wl.n_buffers):
        uses = wl.uses[b]
        assert (np.diff(uses) > 0).all()
        assert ((uses >= wl.start[b]) & (uses < wl.end[b])).all()
        assert defined[b] or len(uses)
    # every op's stored traffic is exactly the sizes of the buffers it touches
    traffic = np.zeros(wl.n_ops)
    for b, ops in enumerate(touching_ops(wl)):
        traffic[ops] += wl.size[b]
    stored = np.asarray(wl.raw["ops"]["bytes_read"]) + np.asarray(wl.raw["ops"]["bytes_written"])
    np.testing.assert_array_equal(traffic, stored)
    assert (wl.op_flops > 0).all()
    assert wl.peak_live_bytes <= wl.size.sum()


def test_matmul_flops_come_from_the_flop_counter():
    wl = workloads.load("mlp_small")
    cfg = wl.raw["config"]
    first = wl.op_names.index("addmm")
    assert wl.op_flops[first] == 2 * cfg["batch"] * cfg["widths"][0] * cfg["widths"][1]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_regeneration_reproduces_the_stored_files(tmp_path):
    pytest.importorskip("torch")
    from arenas.memory import extract

    names = ["gpt_tiny", "lstm_small", "moe_small"]  # views, split views, dropped runtime asserts
    for path in extract.write(names, folder=tmp_path):
        assert path.read_bytes() == (workloads.WORKLOAD_DIR / path.name).read_bytes(), path.name
