"""Temporal smoothing on real motion (../shared/motion): jitter, fast motion, outliers, gaps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support_paths import shared_path

from scail_pose_core.errors import InputError
from scail_pose_core.lift3d import SmoothOptions, smooth_joints, smooth_sequence
from scail_pose_core.lift3d.smoothing import hampel_outliers
from scail_pose_core.skeletons.smpl import PARENTS
from scail_pose_core.types import Pose3D, PoseFrame, PoseSequence

ON = SmoothOptions(enabled=True)


def _motion(name: str) -> tuple[np.ndarray, float]:
    d = json.loads(shared_path("motion", f"{name}.json").read_text())
    return np.array([f[0] for f in d["frames"]], np.float64), float(d["fps"])


def _noise_jitter(a: np.ndarray, b: np.ndarray) -> float:
    """RMS frame-to-frame change of the difference a − b (mm)."""
    return float(np.sqrt(np.mean(np.sum(np.diff(a - b, axis=0) ** 2, axis=-1))))


def _bones(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x[:, 1:] - x[:, PARENTS[1:]], axis=-1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jitter_down_3x_fast_motion_kept_bones_stable(seed):
    clean, fps = _motion("carphone")
    present = np.ones(len(clean), bool)
    noisy = clean + np.random.default_rng(seed).normal(0.0, 8.0, clean.shape)
    sm, sp = smooth_joints(noisy, present, ON, fps=fps)
    sm_clean, _ = smooth_joints(clean, present, ON, fps=fps)
    assert sp.all()
    # the synthetic noise's frame-to-frame jitter drops at least 3×
    ratio = _noise_jitter(noisy, clean) / _noise_jitter(sm, sm_clean)
    assert ratio >= 3.0, ratio
    # fast motion kept: mean error vs the clean motion at the fastest 5 % of joints < 15 mm
    speed = np.linalg.norm(np.gradient(clean, axis=0), axis=-1)
    fast = speed >= np.quantile(speed, 0.95)
    err = np.linalg.norm(sm - clean, axis=-1)
    assert err[fast].mean() < 15.0, err[fast].mean()
    # bone lengths: mean kept within 5 mm, frame-to-frame spread at most half the noisy one's
    assert np.abs(_bones(sm).mean(0) - _bones(clean).mean(0)).max() < 5.0
    assert _bones(sm).std(0).mean() < 0.5 * _bones(noisy).std(0).mean()


@pytest.mark.parametrize(("name", "frame"), [("carphone", 40), ("carphone", 90), ("scail_001", 45)])
def test_one_frame_outlier_removed(name, frame):
    clean, fps = _motion(name)
    present = np.ones(len(clean), bool)
    bad = clean.copy()
    bad[frame] += np.array([250.0, -120.0, 300.0])  # NLF picked someone else for one frame
    sm, _ = smooth_joints(bad, present, ON, fps=fps)
    # reference result: the same filter with that frame simply missing and refilled
    gap = present.copy()
    gap[frame] = False
    ref, ref_p = smooth_joints(clean, gap, ON, fps=fps)
    assert ref_p[frame]
    err = np.linalg.norm(sm[frame] - clean[frame], axis=-1).max()
    assert err < 0.15 * np.linalg.norm([250.0, 120.0, 300.0]), err
    # ... and close to what the filter gives when that frame is simply missing; the
    # neighbours are not dragged towards the outlier
    for t in (frame - 1, frame, frame + 1):
        assert np.linalg.norm(sm[t] - ref[t], axis=-1).mean() < 10.0


def test_fast_swing_is_not_an_outlier():
    # scail_001 (16 fps dance): the hands (20-23) cross 700-800 mm in 1-2 frames at frames
    # 13-15 and 22-24. The intermediate frames lie between their neighbours, so they are real
    # motion, not outliers (the plain Hampel test rejected frame 14 of joints 20-23).
    clean, _ = _motion("scail_001")
    valid = np.ones(clean.shape[:2], bool)
    out = hampel_outliers(clean, valid, 3, 3.0, 50.0)
    assert not out[13:16, 20:24].any() and not out[22:25, 20:24].any()
    # the same joints displaced at one frame are rejected
    bad = clean.copy()
    bad[40, 20:24] += np.array([250.0, -120.0, 300.0])
    out = hampel_outliers(bad, valid, 3, 3.0, 50.0)
    assert out[40, 20:24].all()


def test_short_gaps_filled_long_gaps_kept():
    clean, fps = _motion("carphone")
    present = np.ones(len(clean), bool)
    present[20:23] = False  # 3 frames: filled (max_gap 5)
    present[60:70] = False  # 10 frames: kept missing
    present[:2] = False  # the start: never extrapolated
    joints = np.where(present[:, None, None], clean, 0.0)
    sm, sp = smooth_joints(joints, present, ON, fps=fps)
    assert sp[20:23].all() and not sp[60:70].any() and not sp[:2].any()
    assert not sm[60:70].any() and not sm[:2].any()
    assert np.linalg.norm(sm[20:23] - clean[20:23], axis=-1).max() < 40.0
    sm0, sp0 = smooth_joints(joints, present, SmoothOptions(enabled=True, max_gap=0), fps=fps)
    assert not sp0[20:23].any()


def test_disabled_is_identity():
    clean, fps = _motion("scail_001")
    present = np.ones(len(clean), bool)
    sm, sp = smooth_joints(clean, present, SmoothOptions(), fps=fps)
    np.testing.assert_allclose(sm, clean.astype(np.float32))
    seq = PoseSequence((PoseFrame(pose3d=Pose3D(clean[:1].astype(np.float32))),), (512, 896))
    assert smooth_sequence(seq) is seq


def test_smooth_sequence_per_track_and_slot():
    clean, fps = _motion("carphone")
    t = 30
    a = clean[:t].astype(np.float32)
    b = (clean[:t] + np.array([800.0, 0, 300])).astype(np.float32)
    rng = np.random.default_rng(3)
    frames = []
    for i in range(t):
        ja = a[i] + rng.normal(0, 8, (24, 3)).astype(np.float32)
        jb = b[i] + rng.normal(0, 8, (24, 3)).astype(np.float32)
        if i == 10:  # track 7 lost for one frame (slot absent), track 3 present
            frames.append(PoseFrame(pose3d=Pose3D(ja[None], None, np.array([3], np.int32))))
        elif i % 2:  # slot order swaps: identity comes from the track id, not the slot
            frames.append(PoseFrame(pose3d=Pose3D(np.stack([jb, ja]), None,
                                                  np.array([7, 3], np.int32))))  # fmt: skip
        else:
            frames.append(PoseFrame(pose3d=Pose3D(np.stack([ja, jb]), None,
                                                  np.array([3, 7], np.int32))))  # fmt: skip
    seq = PoseSequence(tuple(frames), (512, 896), fps=fps)
    out = smooth_sequence(seq, ON)
    assert out.meta["smoothing"]["persons"] == 2 and out.meta["smoothing"]["frames_filled"] == 1
    for i, f in enumerate(out.frames):
        ids = f.pose3d.track_ids.tolist()
        assert sorted(ids) == [3, 7] and f.pose3d.present.all()
        for tid, truth in ((3, a), (7, b)):
            j = f.pose3d.joints_mm[ids.index(tid)]
            assert np.linalg.norm(j - truth[i], axis=-1).mean() < 15.0


def test_bad_shapes():
    with pytest.raises(InputError, match=r"\(T, 24, 3\)"):
        smooth_joints(np.zeros((5, 18, 3)), np.ones(5, bool), ON)
    with pytest.raises(InputError, match="max_gap"):
        SmoothOptions(max_gap=-1)
