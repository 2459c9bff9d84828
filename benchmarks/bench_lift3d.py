"""Benchmark of lift_to_3d's batching/masking and its host memory (NLF stand-in, CPU).

Prints:
* masking + batching overhead per frame (a no-op model, so only our code is timed),
* wall time per frame with the TorchScript stand-in (tests/standin_nlf.py),
* peak host memory (RSS growth over the post-import baseline, and tracemalloc peak of numpy
  allocations) for 100 and 1,000 frames at 512×896, streamed in chunks of 32 frames, each in a
  fresh subprocess. Target: the 1,000-frame peak is at most 2× the 100-frame peak.

Run: /work/venv/bin/python benchmarks/bench_lift3d.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

H, W = 512, 896
CHUNK = 32


def _frames(n: int):
    """Yield (t, H, W, 3) uint8 chunks generated on the fly (a decoder would do the same)."""
    import numpy as np

    for start in range(0, n, CHUNK):
        t = min(CHUNK, n - start)
        chunk = np.full((t, H, W, 3), 40, np.uint8)
        chunk[:, 100:450, 300:520] = 180
        yield chunk


def _dets(n: int):
    import numpy as np

    from scail_pose_core.types import Detections

    d = Detections(np.array([[320, 120, 500, 430]], np.float32), np.ones(1, np.float32))
    return [d] * n


class _NullModel:
    """Returns 'nobody' instantly: isolates masking/batching/transfer cost."""

    device = "cpu"

    def detect_smpl_batched(self, images, **kwargs):
        import torch

        return {"joints3d_nonparam": [torch.zeros((0, 24, 3))] * int(images.shape[0])}


def child(n: int, model_path: str) -> None:
    import tracemalloc

    import numpy as np  # noqa: F401

    from scail_pose_core.lift3d import LiftOptions, lift_to_3d, load_nlf

    model = load_nlf(model_path, device="cpu")
    dets = _dets(n)
    # warm-up (TorchScript first-call optimisation) on 2 frames
    lift_to_3d(next(_frames(2)), dets[:2], model)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    out = lift_to_3d(_frames(n), dets, model, LiftOptions(batch_size=64))
    dt = time.perf_counter() - t0
    _, peak_tm = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert len(out) == n and all(p.present.all() for p in out)
    print(
        json.dumps(
            {
                "frames": n,
                "seconds": dt,
                "rss_base_mb": base / 1024,
                "rss_peak_mb": peak / 1024,
                "rss_growth_mb": (peak - base) / 1024,
                "tracemalloc_peak_mb": peak_tm / 2**20,
            }
        )
    )


def main() -> None:
    from standin_nlf import build_nlf_standin

    from scail_pose_core.lift3d import LiftOptions, lift_to_3d

    with tempfile.TemporaryDirectory() as tmp:
        model_path = str(build_nlf_standin(Path(tmp) / "nlf_standin.torchscript"))

        n = 256
        dets = _dets(n)
        lift_to_3d(next(_frames(2)), dets[:2], _NullModel())
        t0 = time.perf_counter()
        lift_to_3d(_frames(n), dets, _NullModel(), LiftOptions(batch_size=64))
        with_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in _frames(n):
            pass
        gen_only = time.perf_counter() - t0
        per = (with_gen - gen_only) / n * 1e3
        print(f"masking+batching overhead: {per:.2f} ms/frame (1 box, {H}x{W}, batch 64)")

        results = {}
        for frames in (100, 1000):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(frames), model_path],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            results[frames] = json.loads(proc.stdout.strip().splitlines()[-1])
            r = results[frames]
            print(
                f"{frames:5d} frames: {r['seconds'] / frames * 1e3:.1f} ms/frame with the "
                f"stand-in; RSS base {r['rss_base_mb']:.0f} MB, peak {r['rss_peak_mb']:.0f} MB "
                f"(growth {r['rss_growth_mb']:.0f} MB); tracemalloc peak "
                f"{r['tracemalloc_peak_mb']:.0f} MB"
            )
        ratio = results[1000]["rss_peak_mb"] / results[100]["rss_peak_mb"]
        ratio_tm = results[1000]["tracemalloc_peak_mb"] / results[100]["tracemalloc_peak_mb"]
        ok = ratio <= 2.0 and ratio_tm <= 2.0
        print(
            f"peak RSS 1000/100 = {ratio:.2f}x, tracemalloc 1000/100 = {ratio_tm:.2f}x "
            f"(target <= 2x): {'OK' if ok else 'FAIL'}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main()
