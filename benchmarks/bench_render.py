"""Render speed: frames/s at 512×896 for 1 and 3 persons over 81 frames, per available backend.

Usage:
    python benchmarks/bench_render.py [--threads N] [--frames 81] [--motion ../shared/motion/x.json]

Times ``render_sequence`` (3D + IMAGE/MASK output at full size, no 2D overlay) and
``render_rgba``; prints frames per second and peak memory (process RSS for the CPU, CUDA peak
allocation for GPU backends, which includes the copy back to host memory).
Targets (issue 3): torch on 2 CPU cores ≥ 20 fps for one person; nvdiffrast ≥ 2000 fps.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scail_pose_core import Pose3D, PoseFrame, PoseSequence  # noqa: E402
from scail_pose_core.render import (  # noqa: E402
    RenderOptions,
    available_backends,
    render_rgba,
    render_sequence,
)

SIZE = (512, 896)


def _skeleton(z: float) -> np.ndarray:
    j = np.zeros((24, 3), np.float32)
    for i, p in {
        0: (0, 0, 0), 1: (90, 80, 0), 2: (-90, 80, 0), 4: (100, 480, 0), 5: (-100, 480, 0),
        7: (110, 880, 0), 8: (-110, 880, 0), 12: (0, -500, 0), 15: (0, -680, 0),
        16: (180, -450, 0), 17: (-180, -450, 0), 18: (450, -450, -100), 19: (-450, -450, -100),
        20: (700, -450, -200), 21: (-700, -450, -200),
    }.items():  # fmt: skip
        j[i] = p
    j[np.any(j != 0, axis=1), 2] += z
    return j


def synthetic_motion(n: int, persons: int) -> list[np.ndarray]:
    """(P, 24, 3) joints per frame: skeletons swaying and walking, spread across the frame."""
    out = []
    for t in range(n):
        ps = []
        for p in range(persons):
            j = _skeleton(3800.0 + 400 * p)
            nz = np.any(j != 0, axis=1)
            j[nz, 0] += (p - (persons - 1) / 2) * 900 + 150 * np.sin(0.2 * t + p)
            j[[20, 21], 1] += 250 * np.sin(0.3 * t + p)  # waving wrists
            ps.append(j)
        out.append(np.stack(ps))
    return out


def load_motion(path: Path, n: int, persons: int) -> list[np.ndarray]:
    frames = json.loads(path.read_text())["frames"]
    base = [np.asarray(f[0], np.float32) for f in frames]
    out = []
    for t in range(n):
        j = base[t % len(base)]
        ps = []
        for p in range(persons):
            q = j.copy()
            nz = np.any(q != 0, axis=1)
            q[nz, 0] += (p - (persons - 1) / 2) * 900
            q[nz, 2] += 400 * p
            ps.append(q)
        out.append(np.stack(ps))
    return out


def bench(seq: PoseSequence, backend: str, device: str, repeat: int) -> dict:
    chunk = 64 if device.startswith("cuda") else 16
    opts = RenderOptions(backend=backend, device=device, draw_2d=False, chunk_size=chunk)
    render_rgba(PoseSequence(seq.frames[:2], seq.size_hw), opts)  # warm-up (caches, kernels)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    best_seq = best_rgba = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = render_sequence(seq, opts)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best_seq = min(best_seq, time.perf_counter() - t0)
        t0 = time.perf_counter()
        render_rgba(seq, opts)
        best_rgba = min(best_rgba, time.perf_counter() - t0)
    n = res.frame_count
    out = {"fps_render_sequence": n / best_seq, "fps_render_rgba": n / best_rgba}
    if device.startswith("cuda"):
        out["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def write_example(path: Path) -> None:
    """Render frame 0 of ../shared/golden/scail_001 (its capsules, camera and video-global
    depth constants) with the torch backend and save it as an RGB PNG on black."""
    import cv2

    from scail_pose_core.render import DepthConstants, FrameCapsules, render_capsule_frames
    from scail_pose_core.render.backend_torch import CameraParams

    root = Path(__file__).resolve().parents[2] / "shared" / "golden" / "scail_001"
    d = json.loads((root / "input.json").read_text())
    caps = d["frames"][0]["capsules"]
    fc = FrameCapsules.from_arrays([c["start"] for c in caps], [c["end"] for c in caps],
                                   [c["rgba"] for c in caps])  # fmt: skip
    k = np.asarray(d["intrinsics"])
    cam = CameraParams(k[0, 0], k[1, 1], k[0, 2], k[1, 2], tuple(d["size_hw"]))
    rgba = render_capsule_frames([fc], cam, DepthConstants.from_dict(d["global_depth"]),
                                 RenderOptions(backend="torch", device="cpu"))[0]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgba[..., :3], cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_PNG_COMPRESSION, 9])  # fmt: skip
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--motion", type=Path, default=None, help="a ../shared/motion/*.json file")
    ap.add_argument("--write-example", type=Path, default=None,
                    help="write the README picture (golden scail_001 frame 0, torch backend) "
                         "to this PNG and exit")  # fmt: skip
    a = ap.parse_args()
    if a.write_example:
        write_example(a.write_example)
        return
    if a.threads:
        torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, "
          f"backends {available_backends()}, {a.frames} frames at {SIZE[0]}x{SIZE[1]}")  # fmt: skip
    for persons in (1, 3):
        motion = (load_motion(a.motion, a.frames, persons) if a.motion
                  else synthetic_motion(a.frames, persons))  # fmt: skip
        seq = PoseSequence(tuple(PoseFrame(pose3d=Pose3D(j)) for j in motion), SIZE, 16.0)
        targets = [("torch", "cpu")]
        if torch.cuda.is_available():
            targets.append(("torch", "cuda"))
            if "nvdiffrast" in available_backends():
                targets.append(("nvdiffrast", "cuda"))
        for backend, device in targets:
            r = bench(seq, backend, device, a.repeat)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            extra = f", CUDA peak {r['cuda_peak_mib']:.0f} MiB" if "cuda_peak_mib" in r else ""
            print(f"{persons} person(s) {backend:10s} {device:4s}: "
                  f"render_sequence {r['fps_render_sequence']:7.1f} fps, "
                  f"render_rgba {r['fps_render_rgba']:7.1f} fps, "
                  f"process peak RSS {rss:.0f} MiB{extra}")  # fmt: skip


if __name__ == "__main__":
    main()
