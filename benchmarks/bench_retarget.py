"""Retargeting speed: frames per second for 1,000 frames on one CPU core.

Prints, each as best and median of several runs:

* core maths: ``bones.rebuild`` + ``placement.place`` (arrays in, arrays out);
* the whole ``retarget(seq, reference, RetargetOptions("bone_lengths"))`` call: PoseSequence in,
  PoseSequence out (gathering the frames, bone rebuild, placement, 2D follow, camera fit, face
  and hand alignment, building the output frames) — the number the target applies to;
* the whole ``retarget(..., RetargetOptions("camera_fit"))`` call;
* for comparison, the per-frame validated path (``_retarget(..., fast=False)``), and the fixed
  per-character cost of the L-BFGS-B camera solve (independent of the number of frames).

Target: ≥ 5,000 frames/s for the whole bone-length call. The machine may be shared: the
median is the typical number, the best one is the least disturbed.
Run from the repository root: ``python benchmarks/bench_retarget.py`` (OMP/OpenBLAS/MKL
threads default to 1).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scail_pose_core.retarget import (  # noqa: E402
    RetargetOptions,
    _retarget,
    bones,
    camera_fit,
    placement,
    retarget,
)
from scail_pose_core.skeletons import smpl  # noqa: E402
from scail_pose_core.types import Camera, Pose2D, Pose3D, PoseFrame, PoseSequence  # noqa: E402

T = 1000
TARGET_FPS = 5000.0
HW = (512, 896)


def synthetic_motion(t: int) -> np.ndarray:
    """A walking-like SMPL-24 motion (T, 24, 3) mm: a random rest skeleton, swinging bones."""
    rng = np.random.default_rng(0)
    rest = np.zeros((24, 3))
    for c in range(1, 24):
        rest[c] = rest[smpl.PARENTS[c]] + rng.normal(size=3) * 80 + [0, 60, 0]
    phase = np.linspace(0, 20 * np.pi, t)[:, None, None]
    wobble = 40 * np.sin(phase + np.arange(24)[None, :, None]) * np.array([1.0, 0.3, 0.5])
    root = np.stack([np.linspace(-500, 500, t), np.zeros(t), np.full(t, 3500.0)], -1)
    return rest[None] + wobble + root[:, None, :]


def pose2d_of(j: np.ndarray, cam: Camera) -> Pose2D:
    body = np.zeros((1, 24, 2))
    body[0, :14] = cam.project(smpl.smpl24_to_openpose18(j)[:14]) / [HW[1], HW[0]]
    sc = np.zeros((1, 24))
    sc[0, :14] = 1
    face = np.full((1, 68, 2), 0.5)
    hand = np.full((1, 21, 2), 0.5)
    return Pose2D(body, sc, face, np.ones((1, 68)), hand, np.ones((1, 21)), hand, np.ones((1, 21)))


def timings(fn, repeat: int) -> np.ndarray:
    """Wall-clock seconds of ``repeat`` calls (after one warm-up call)."""
    fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return np.array(out)


def line(label: str, seconds: np.ndarray, frames: int = T, target: float | None = None) -> None:
    best, typical = frames / seconds.min(), frames / np.median(seconds)
    verdict = ""
    if target is not None:
        verdict = f"   target ≥ {target:,.0f}: {'PASS' if typical >= target else 'FAIL'} (median)"
    print(f"  {label:<44} best {best:>8,.0f}  median {typical:>8,.0f} frames/s{verdict}")


def main() -> None:
    logging.getLogger("scail_pose").setLevel(logging.ERROR)  # the fit warns on every call
    cam = Camera.from_fov(HW)
    motion = synthetic_motion(T)
    valid = np.ones(T, bool)
    target = bones.typical_lengths(motion) * 0.8

    def core() -> None:
        rebuilt = bones.rebuild(motion, target, valid)
        ratio = bones.leg_ratio(target, bones.typical_lengths(motion, valid))
        placement.place(motion, rebuilt, ratio, valid, 16.0, cam)

    seq = PoseSequence(
        tuple(PoseFrame(pose2d=pose2d_of(j, cam), pose3d=Pose3D(j[None])) for j in motion), HW
    )
    ref3d = bones.rebuild(motion[:1], target)[0]
    ref = PoseFrame(pose2d=pose2d_of(ref3d, cam), pose3d=Pose3D(ref3d[None]))

    threads = os.environ["OMP_NUM_THREADS"]
    print(f"retarget benchmark: {T} frames, {HW[0]}x{HW[1]}, OMP_NUM_THREADS={threads}")
    print("core maths (arrays in, arrays out):")
    line("bones.rebuild + placement.place", timings(core, 15))
    print("whole call (PoseSequence in, PoseSequence out):")
    line(
        "retarget(mode='bone_lengths')",
        timings(lambda: retarget(seq, ref, RetargetOptions("bone_lengths")), 15),
        target=TARGET_FPS,
    )
    line(
        "retarget(mode='camera_fit')",
        timings(lambda: retarget(seq, ref, RetargetOptions("camera_fit")), 15),
    )
    print("for comparison:")
    line(
        "validated per-frame path, bone_lengths",
        timings(lambda: _retarget(seq, ref, RetargetOptions("bone_lengths"), fast=False), 3),
    )
    solve = timings(
        lambda: camera_fit.fit_camera(ref.pose2d.body_norm[0], ref.pose2d.body_subset[0],
                                      motion[0], HW, cam),
        15,
    )  # fmt: skip
    print(
        f"  camera solve (fixed per character, any T):  best {solve.min() * 1e3:.1f} ms  "
        f"median {np.median(solve) * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
