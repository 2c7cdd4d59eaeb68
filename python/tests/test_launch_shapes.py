"""On emulated CUDA: no kernel launched every step processes O(N) elements in one
block. A network with every per-step template runs at two sizes with the
emulated driver's launch statistics; every kernel launched every step must
spread over more blocks at the larger size, except the ones whose work does not
grow with N (the rate monitor's count, and Brisk's own step tick that advances
the clocks at the end of a step replayed as a CUDA graph); the 50 steps of
the run take a few graph replays, not one per step; and the group's state
update runs fused into its threshold's kernel.

Runs only on emulated CUDA (scripts/test-cuda-emu): elsewhere there are no
launch statistics, and the test is skipped with that reason, unless
BRISK_REQUIRE_CUDA_EMU=1, where it fails.
"""

import glob
import json
import os
import subprocess

import pytest

import models_shapes
from harness import run_model

EMULATED = (os.environ.get("BRISK_CUDA_EMULATION") == "1"
            and os.environ.get("BRISK_E2E_BACKEND", "cpu") == "cuda")
REQUIRED = os.environ.get("BRISK_REQUIRE_CUDA_EMU") == "1"
# templates whose work per step does not grow with N
CONSTANT_WORK = ("ratemonitor", "step_tick")


def _launch_stats(n, tmp_path):
    """Per-kernel launch statistics, and each kernel's Brian template."""
    from brian2brisk.binary import find_brisk_binary

    stats = tmp_path / f"stats_{n}"
    res = run_model(models_shapes.every_template, "brisk", params={"N": n},
                    env={"BRISK_EMU_STATS_DIR": str(stats)})
    kernels = {}
    replays = 0
    for f in glob.glob(str(stats / "*.json")):
        with open(f) as fh:
            data = json.load(fh)
        kernels.update(data["kernels"])
        replays += data["graph_launches"]
    kernels["(graph replays)"] = replays
    ir = json.loads(subprocess.run([find_brisk_binary(), "inspect", os.path.join(res.directory, "export")],
                                   capture_output=True, text=True, check=True).stdout)
    templates = {"brisk_step_tick": "step_tick"}
    for co in ir["code_objects"]:
        for k in kernels:
            if k == f"brisk_{co['name']}" or k.startswith(f"brisk_{co['name']}_"):
                templates[k] = co["template"]
    return kernels, templates


@pytest.mark.skipif(not EMULATED and not REQUIRED,
                    reason="needs launch statistics: emulated CUDA only (scripts/test-cuda-emu)")
def test_no_per_step_kernel_runs_in_one_block(tmp_path):
    assert EMULATED, "BRISK_REQUIRE_CUDA_EMU=1 but the backend is not emulated CUDA"
    (small, _), (large, templates) = _launch_stats(1024, tmp_path), _launch_stats(8192, tmp_path)
    steps = 50  # 5 ms at 0.1 ms
    # one clock: a graph replays up to 32 steps at once (two replays, or a few more
    # where a monitor drain splits the run)
    replays = large.pop("(graph replays)")
    small.pop("(graph replays)")
    assert 2 <= replays <= 8, replays
    per_step = [k for k, v in large.items() if v["launches"] >= steps]
    assert len(per_step) >= 7, per_step
    # the group's state update runs inside its threshold's kernel (plan::fusion); its reset
    # does not, since the delivery writes the v it resets
    assert "brisk_shapes_spike_thresholder_codeobject_fused" in per_step, per_step
    assert "brisk_shapes_stateupdater_codeobject" not in large, sorted(large)
    assert "brisk_shapes_spike_resetter_codeobject" in per_step, per_step
    for name in per_step:
        blocks_large = max(int(b) for b in large[name]["blocks_per_launch"])
        blocks_small = max(int(b) for b in small[name]["blocks_per_launch"])
        if templates.get(name) in CONSTANT_WORK:
            assert large[name]["max_barriers_per_launch"] <= small[name]["max_barriers_per_launch"], name
            assert blocks_large == blocks_small, (name, blocks_small, blocks_large)
            continue
        assert blocks_large > 1, f"{name} runs in one block at N = 8192: {large[name]}"
        assert blocks_large >= blocks_small, name
        # a block's loop over the elements would show as barriers growing with N
        per_block_large = large[name]["barriers"] / max(1, large[name]["blocks"])
        per_block_small = small[name]["barriers"] / max(1, small[name]["blocks"])
        assert per_block_large <= 2 * per_block_small + 1, (name, per_block_small, per_block_large)
