"""Retargeting speed: frames per second for 1,000 frames on one CPU core.

Prints the core bone-length rebuild + placement (arrays in, arrays out), the whole
``retarget(mode="bone_lengths")`` including PoseSequence/PoseFrame construction and the camera
fit, and ``retarget(mode="camera_fit")``. Target: ≥ 5,000 frames/s for bone-length
retargeting. Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_retarget.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from scail_pose_core.retarget import RetargetOptions, bones, placement, retarget  # noqa: E402
from scail_pose_core.skeletons import smpl  # noqa: E402
from scail_pose_core.types import Camera, Pose2D, Pose3D, PoseFrame, PoseSequence  # noqa: E402

T = 1000
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


def timeit(fn, repeat: int = 5) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    cam = Camera.from_fov(HW)
    motion = synthetic_motion(T)
    valid = np.ones(T, bool)
    target = bones.typical_lengths(motion) * 0.8

    def core() -> None:
        rebuilt = bones.rebuild(motion, target, valid)
        ratio = bones.leg_ratio(target, bones.typical_lengths(motion, valid))
        placement.place(motion, rebuilt, ratio, valid, 16.0, cam)

    t_core = timeit(core)
    print(f"bone-length core (rebuild + placement), {T} frames: {T / t_core:,.0f} frames/s")

    seq = PoseSequence(
        tuple(PoseFrame(pose2d=pose2d_of(j, cam), pose3d=Pose3D(j[None])) for j in motion), HW
    )
    ref3d = bones.rebuild(motion[:1], target)[0]
    ref = PoseFrame(pose2d=pose2d_of(ref3d, cam), pose3d=Pose3D(ref3d[None]))
    for mode in ("bone_lengths", "camera_fit"):
        t_full = timeit(lambda m=mode: retarget(seq, ref, RetargetOptions(m)), repeat=3)
        print(
            f"retarget(mode={mode!r}) incl. PoseSequence I/O, {T} frames: {T / t_full:,.0f} frames/s"
        )


if __name__ == "__main__":
    main()
