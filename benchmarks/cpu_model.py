"""A floor for Brisk's C++ backend: the bytes a step moves against the bandwidth
this machine measures, for `scripts/bench-paper --preset cpu` and
`scripts/cpu-model`.

* `probe(threads)`: a STREAM-like triad (`a[i] = b[i] + s*c[i]`, 24 bytes per
  element) on `threads` threads, each over its own slice, at working sets from
  a few kilobytes to far beyond the last-level cache: bytes per second at each
  size (the best of three). Compiled here with the flags of Brisk's C++
  target.
* `traffic(export_dir, rates, synapses, brisk)`: the bytes per step of every
  code object that runs each step (`benchmarks/traffic.py`, 64 bytes per
  scattered access: a cache line), and the plan they were counted from;
  `rates(export_dir, spikes, duration)` gives the firing rates it needs.
* `floor_s(per_step, table, steps)`: the time those bytes take at the
  bandwidth the probe measured for a working set of their size (what one
  step touches stays in whichever cache holds it from one step to the next;
  a model, not a measurement: arithmetic is not counted, so a model that
  computes much, as Hodgkin-Huxley's exponentials, stays well above it).
"""

import json
import os
import subprocess
import tempfile

from traffic import bytes_per_step

LINE = 64  # bytes a scattered access moves on a CPU
# issue 22's table (scripts/bench-paper --preset cpu, scripts/cpu-model): model, size,
# seconds of biological time
CPU_PRESET = [("cuba", 4000, 1.0), ("cobahh_uncoupled", 4000, 1.0), ("brunel_hakim_homog", 5000, 1.0),
              ("brunel_hakim_heterog", 5000, 1.0), ("stdp_all_to_all", 10000, 2.0),
              ("poisson_delays", 10000, 2.0), ("mushroom_body", 10000, 1.0)]
# the code objects that run every step (the others build connectivity or set values)
PER_STEP = {"stateupdate", "threshold", "reset", "synapses", "synapses_push_spikes", "spikemonitor",
            "statemonitor", "ratemonitor", "summed_variable", "spikegenerator"}
SIZES = [32 << 10, 256 << 10, 512 << 10, 1 << 20, 2 << 20, 4 << 20, 16 << 20, 128 << 20, 512 << 20]

PROBE = r"""
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
int main(int argc, char** argv) {
    const int threads = atoi(argv[1]);
    const size_t total = strtoull(argv[2], nullptr, 10);
    const size_t n = total / 24 / threads;  // elements per thread
    const size_t reps = n * 24 * threads >= (size_t)2e9 ? 1 : (size_t)2e9 / (n * 24 * threads);
    double best = 1e30;
    std::vector<std::vector<double>> a(threads), b(threads), c(threads);
    for (int round = 0; round < 3; ++round) {
        auto run = [&](int k) {
            if (a[k].empty()) { a[k].assign(n, 1.0); b[k].assign(n, 2.0); c[k].assign(n, 0.5); }
            double* __restrict pa = a[k].data();
            const double* __restrict pb = b[k].data();
            const double* __restrict pc = c[k].data();
            for (size_t r = 0; r < reps; ++r) {
                const double s = 1.0 + r * 1e-9;
                for (size_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
            }
        };
        if (round == 0) {  // first touch, by the thread that uses the slice
            std::vector<std::thread> ts;
            for (int k = 0; k < threads; ++k) ts.emplace_back([&, k] { a[k].assign(n, 1.0); b[k].assign(n, 2.0); c[k].assign(n, 0.5); });
            for (auto& t : ts) t.join();
        }
        const auto start = std::chrono::steady_clock::now();
        std::vector<std::thread> ts;
        for (int k = 1; k < threads; ++k) ts.emplace_back(run, k);
        run(0);
        for (auto& t : ts) t.join();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = s < best ? s : best;
    }
    double check = 0;
    for (int k = 0; k < threads; ++k) check += a[k][n / 2];
    printf("%.6g %.3g\n", 24.0 * n * threads * reps / best, check);
}
"""


def probe(threads, sizes=SIZES):
    """[(working-set bytes, bytes per second)] of the triad on `threads` threads."""
    cxx = os.environ.get("CXX", "c++")
    with tempfile.TemporaryDirectory(prefix="brisk_probe_") as tmp:
        src, exe = os.path.join(tmp, "probe.cpp"), os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(PROBE)
        subprocess.run([cxx, "-O3", "-march=native", "-pthread", "-o", exe, src], check=True)
        out = []
        for size in sizes:
            line = subprocess.run([exe, str(threads), str(size)], check=True, capture_output=True,
                                  text=True).stdout.split()
            out.append((size, float(line[0])))
        return out


def probes():
    """The probe on one thread and on every core: {threads: [(bytes, bytes per second)]}."""
    return {t: probe(t) for t in sorted({1, os.cpu_count()})}


def brisk_binary():
    """`$BRISK_BINARY`, else the project environment's brisk."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get("BRISK_BINARY") or os.path.join(root, ".venv", "bin", "brisk")


def bandwidth(table, working_set):
    """The probe's bandwidth at the smallest working set that holds `working_set`."""
    for size, bw in table:
        if working_set <= size:
            return bw
    return table[-1][1]


def _json(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def traffic(export_dir, rates, synapses, brisk):
    """Bytes per step per code object (`{name: bytes}`) and the plan (plan.json's).
    `rates`: spikes per second per neuron of each group (by Brian name)."""
    with tempfile.TemporaryDirectory(prefix="brisk_traffic_") as tmp:
        conv = os.path.join(tmp, "bundle")
        subprocess.run([brisk, "convert", export_dir, "-o", conv], check=True, capture_output=True)
        with open(os.path.join(conv, "generated", "plan.json")) as f:
            plan = json.load(f)["plan"]
    ir = _json([brisk, "inspect", export_dir])
    with open(os.path.join(export_dir, "manifest.json")) as f:
        manifest = json.load(f)
    dsize = 8 if any(a.get("dtype") == "float64" for a in manifest["arrays"]) else 4
    info = {"synapses": synapses}
    per_step = {}
    for co in ir["code_objects"]:
        if co["template"] in PER_STEP:
            per_step[co["name"]] = bytes_per_step(co, info, rates, manifest, plan, dsize, sector=LINE)
    return per_step, plan


def rates(export_dir, spikes, duration):
    """Spikes per second per neuron of each group, from its spike count over `duration` s."""
    with open(os.path.join(export_dir, "manifest.json")) as f:
        manifest = json.load(f)
    sizes = {a["owner"]: a["size"] for a in manifest["arrays"] if a["var"] == "i" and not a["dynamic"]}
    return {g: k / max(1, sizes.get(g, 1)) / duration for g, k in spikes.items()}


def floor_s(per_step, table, steps):
    """Seconds the bytes of `steps` steps take at the probed bandwidth for their working
    set (what one step touches)."""
    working = sum(per_step.values())
    return working * steps / bandwidth(table, working)
