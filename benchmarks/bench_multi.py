"""Time and memory of the multi-character tracking and merging logic (stand-in models).

4 characters (coloured rectangles at different depths whose paths cross) over up to 1,000
frames. Frames are rendered on demand and the masks live in a disk-backed ``np.memmap``, so
what is measured is the logic itself: per-character masked frames, the stand-in lifter (finds
the character's colour, places a skeleton), 2D assignment by mask overlap with Hungarian
matching, per-frame assembly — plus ``track_pose3d`` (3D identity tracking of shuffled
detections) and ``relabel_instances`` (mask-IoU identity tracking).

Peak memory is the tracemalloc peak *during* the call above what existed before it (numpy
buffers are traced). "output KB/f" is what the returned PoseSequence keeps alive per frame;
"working MB" = peak − output, the logic's own working memory, which must stay flat as the
number of frames grows.

Usage: python benchmarks/bench_multi.py [--frames 1000] [--size 128x192]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scail_pose_core.segment import ExtractOptions, extract_characters, masks_from_external  # noqa: E402
from scail_pose_core.segment.masks import relabel_instances  # noqa: E402
from scail_pose_core.tracking import track_pose3d  # noqa: E402
from scail_pose_core.types import Camera, Detections, Pose2D, Pose3D, PoseFrame  # noqa: E402

COLORS = [(220, 40, 40), (40, 40, 220), (40, 180, 40), (200, 160, 30)]
DEPTHS = [3000.0, 5000.0, 4000.0, 6000.0]


class Scene:
    """Lazy 4-character scene: ``frame(t)``, ``masks(t)`` (C, H, W), ``pose(t)``."""

    def __init__(self, size_hw: tuple[int, int], n: int = 4) -> None:
        self.h, self.w = size_hw
        self.n = n
        self.rng = np.random.default_rng(0)

    def rects(self, t: int) -> np.ndarray:
        h, w = self.h, self.w
        out = []
        for k in range(self.n):
            period = 200 + 37 * k
            phase = (t + 50 * k) % (2 * period)
            x = (phase if phase < period else 2 * period - phase) / period * (w * 0.8)
            bw, bh = int(w * 0.12), int(h * (0.7 - 0.1 * k))
            out.append([int(x), int(h * 0.15), int(x) + bw, int(h * 0.15) + bh])
        return np.array(out)

    def owner(self, t: int) -> np.ndarray:
        own = np.full((self.h, self.w), -1, np.int64)
        for k in np.argsort(DEPTHS[: self.n])[::-1]:  # far first, near last
            x0, y0, x1, y1 = self.rects(t)[k]
            own[y0:y1, x0:x1] = k
        return own

    def frame(self, t: int) -> np.ndarray:
        own = self.owner(t)
        img = np.full((self.h, self.w, 3), 128, np.uint8)
        for k in range(self.n):
            img[own == k] = COLORS[k]
        return img

    def masks(self, t: int) -> np.ndarray:
        own = self.owner(t)
        return np.stack([own == k for k in range(self.n)])

    def pose(self, t: int) -> PoseFrame:
        r = self.rects(t).astype(np.float64)
        order = self.rng.permutation(self.n)
        p = self.n
        body = np.zeros((p, 24, 2))
        for i, k in enumerate(order):
            x0, y0, x1, y1 = r[k]
            body[i, :, 0] = (x0 + (x1 - x0) * np.linspace(0.2, 0.8, 24)) / self.w
            body[i, :, 1] = (y0 + (y1 - y0) * np.linspace(0.1, 0.9, 24)) / self.h
        hand = np.repeat(body[:, 4:5], 21, axis=1)
        pose = Pose2D(
            body, np.full((p, 24), 0.9, np.float32), np.full((p, 68, 2), -1.0),
            np.zeros((p, 68), np.float32), hand, np.full((p, 21), 0.9, np.float32),
            hand.copy(), np.full((p, 21), 0.9, np.float32),
        )  # fmt: skip
        boxes = r[order].astype(np.float32)
        return PoseFrame(detections=Detections(boxes, np.full(p, 0.9, np.float32)), pose2d=pose)


class LazyFrames:
    def __init__(self, scene: Scene, n: int) -> None:
        self.scene, self.n = scene, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, t: int) -> np.ndarray:
        return self.scene.frame(int(t))


def standin_lift(size_hw):
    cam = Camera.from_fov(size_hw)

    def lift(images):
        out = []
        for img in images:
            found = None
            for k, c in enumerate(COLORS):
                m = (img[..., 0] == c[0]) & (img[..., 2] == c[2])
                if m.any():
                    found = (k, m)
                    break
            if found is None:
                out.append(None)
                continue
            k, m = found
            ys, xs = np.nonzero(m)
            z = DEPTHS[k]
            pelvis = [(xs.mean() - cam.cx) * z / cam.fx, (ys.mean() - cam.cy) * z / cam.fy, z]
            out.append(np.tile(np.array(pelvis, np.float32), (24, 1)))
        return out

    return lift


def measure(fn):
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    measure.retained = current - base  # what the result keeps alive
    return out, dt, peak - base


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--size", default="128x192")
    args = ap.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    scene = Scene((h, w))
    counts = sorted({max(1, args.frames // 4), max(1, args.frames // 2), args.frames})
    print(f"4 characters, {h}x{w} px, stand-in lifter; frames: {counts}")
    with tempfile.TemporaryDirectory() as tmp:
        mm = np.lib.format.open_memmap(
            Path(tmp) / "masks.npy", mode="w+", dtype=bool, shape=(args.frames, 4, h, w)
        )
        poses = []
        for t in range(args.frames):
            mm[t] = scene.masks(t)
            poses.append(scene.pose(t))
        mm.flush()
        warm = masks_from_external(mm[:8])  # imports (scipy, cv2) out of the measurement
        extract_characters(LazyFrames(scene, 8), warm, poses[:8], lift_fn=standin_lift((h, w)))
        print(
            f"{'frames':>7} {'extract ms/f':>13} {'extract peak MB':>16} {'output KB/f':>12} "
            f"{'working MB':>18}"
        )
        for n in counts:
            cm = masks_from_external(mm[:n])
            frames = LazyFrames(scene, n)
            seq, dt, peak = measure(
                lambda cm=cm, frames=frames, n=n: extract_characters(
                    frames,
                    cm,
                    poses[:n],
                    lift_fn=standin_lift((h, w)),
                    options=ExtractOptions(chunk_size=32),
                )  # fmt: skip
            )
            out_kb = measure.retained / 1024 / n
            working = (peak - measure.retained) / 2**20
            print(
                f"{n:>7} {dt / n * 1e3:>13.2f} {peak / 2**20:>16.1f} {out_kb:>12.1f} "
                f"{working:>18.1f}"
            )
            swaps = sum(
                int(f.pose3d.present[k] and f.pose3d.joints_mm[k, 0, 2] != DEPTHS[k])
                for f in seq.frames
                for k in range(4)
            )
            assert swaps == 0, f"{swaps} identity swaps"

        # 3D identity tracking of shuffled NLF-style detections
        cam_frames = []
        for t in range(args.frames):
            r = scene.rects(t).astype(np.float64)
            cam = Camera.from_fov((h, w))
            j = np.zeros((4, 24, 3), np.float32)
            order = scene.rng.permutation(4)
            for i, k in enumerate(order):
                cx, cy, z = (r[k, 0] + r[k, 2]) / 2, (r[k, 1] + r[k, 3]) / 2, DEPTHS[k]
                j[i] = [(cx - cam.cx) * z / cam.fx, (cy - cam.cy) * z / cam.fy, z]
            cam_frames.append(Pose3D(j, np.ones(4, bool)))
        print(
            f"{'frames':>7} {'track3d ms/f':>13} {'peak MB':>8} {'relabel ms/f':>13} {'peak MB':>8}"
        )
        for n in counts:
            out, dt, peak = measure(lambda n=n: track_pose3d(cam_frames[:n], (h, w)))
            assert len(out[0].track_ids) == 4
            inst = mm[:n]
            _, dt2, peak2 = measure(lambda inst=inst: relabel_instances(inst))
            print(
                f"{n:>7} {dt / n * 1e3:>13.3f} {peak / 2**20:>8.1f} {dt2 / n * 1e3:>13.2f} "
                f"{peak2 / 2**20:>8.1f}"
            )
        print("relabel_instances returns a (T, C, H, W) array, so its peak grows with T by design.")


if __name__ == "__main__":
    main()
