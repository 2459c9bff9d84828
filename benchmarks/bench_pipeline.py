"""Long-video benchmark of the single-person job with stand-in models.

Usage::

    python benchmarks/bench_pipeline.py                 # 2,000 frames at 512×896 (a few minutes)
    python benchmarks/bench_pipeline.py --frames 300 --size 256 448

Writes a synthetic driving video (a figure moving on black, streamed to disk), builds the tiny
stand-in models of the test suite (YOLOX, DWPose, NLF), runs :func:`run_single` into an mp4 and
prints, per stage: frames/s, peak resident memory (RSS, MB) and the RSS slope (MB per 1,000
frames, from a linear fit over the second half of the stage: ~0 means no growth per frame).
The stand-ins are cheap, so the numbers measure the pipeline's own plumbing (decode, resize,
chunking, per-frame pose data, render, encode), not real model cost.

Exit code 1 when the peak RSS exceeds ``--max-rss-mb`` (default 3,000).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "core" / "pipeline"))


def rss_mb() -> float:
    """Current resident set size of this process (MB), from /proc (Linux) or getrusage."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_chunks(frames: int, size_hw: tuple[int, int], chunk: int = 64):
    """A standing figure (bright blocks on black) that walks left and right, in chunks."""
    from pipeline_helpers import figure_frames

    for s in range(0, frames, chunk):
        yield figure_frames(min(chunk, frames - s), size_hw, start=s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--size", nargs=2, type=int, default=(512, 896), metavar=("H", "W"))
    ap.add_argument("--chunk-size", type=int, default=32)
    ap.add_argument("--max-rss-mb", type=float, default=3000.0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the rendered mp4 here")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    from pipeline_helpers import load_standin_models

    from scail_pose_core.media.video import probe_video, write_video
    from scail_pose_core.pipeline import PipelineOptions, run_single

    h, w = args.size
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as tmp:
        tmp_p = Path(tmp)
        t0 = time.perf_counter()
        video = write_video(tmp_p / "driving.mp4", synthetic_chunks(args.frames, (h, w)), fps=16.0)
        print(f"synthetic video: {args.frames} frames {w}x{h} in {time.perf_counter() - t0:.1f} s")
        models = load_standin_models(tmp_p / "models", dwpose_mode="constant")
        rss0 = rss_mb()
        samples: list[tuple[float, int, int, float]] = []  # (t, done, total, rss)

        def progress(done: int, total: int) -> None:
            samples.append((time.perf_counter(), done, total, rss_mb()))

        out = tmp_p / "rendered.mp4"
        t0 = time.perf_counter()
        result = run_single(
            video, None, models, PipelineOptions(chunk_size=args.chunk_size), progress, None, out
        )
        wall = time.perf_counter() - t0
        info = probe_video(out)
        peak = peak_rss_mb()

        n = len(result.sequence)
        print(f"\nrun_single: {n} frames in {wall:.1f} s = {n / wall:.1f} frames/s overall")
        print(f"output: {info.frame_count} frames {info.size_hw[1]}x{info.size_hw[0]} "
              f"at {info.fps:g} fps")  # fmt: skip
        print(f"RSS before the job {rss0:.0f} MB; process peak RSS {peak:.0f} MB")
        print(f"\n{'stage':12s} {'frames':>7s} {'seconds':>8s} {'frames/s':>9s}")
        for stage, st in result.stats.items():
            fr, sec = st.get("frames", 0), st.get("seconds", 0.0)
            fps = fr / sec if sec > 0 else float("inf")
            print(f"{stage:12s} {fr:7d} {sec:8.2f} {fps:9.1f}")
        # Split the progress samples into the extraction half and the render half of the bar.
        print(f"\n{'phase':12s} {'peak RSS MB':>12s} {'slope MB/1000 frames':>22s}")
        for name, lo, hi in (("extract", 0.0, 0.5), ("render", 0.5, 1.0)):
            pts = [(d, r) for _, d, tot, r in samples if tot and lo < d / tot <= hi + 1e-9]
            if not pts:
                print(f"{name:12s} {'-':>12s} {'-':>22s}")
                continue
            d = np.array([p[0] for p in pts], np.float64)
            r = np.array([p[1] for p in pts], np.float64)
            half = len(d) // 2
            if len(d) >= 8 and np.ptp(d[half:]) > 0:
                # progress units are frames (the bar is extraction frames + render frames)
                slope = f"{1000.0 * np.polyfit(d[half:], r[half:], 1)[0]:22.2f}"
            else:
                slope = f"{'(too few samples)':>22s}"
            print(f"{name:12s} {r.max():12.0f} {slope}")
        if args.keep is not None:
            import shutil

            shutil.copy(out, args.keep)
            print(f"\nkept {args.keep}")
    ok = peak <= args.max_rss_mb
    print(f"\npeak RSS {peak:.0f} MB {'<=' if ok else '>'} limit {args.max_rss_mb:.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
