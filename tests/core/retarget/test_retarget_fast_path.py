"""The vectorised frame I/O of retarget() (FrameStack + trusted constructors) gives exactly the
results of the per-frame validated path, on awkward sequences (missing people, empty poses,
extra people and boxes, multi-person with identities)."""

from __future__ import annotations

import numpy as np
import pytest

from scail_pose_core.retarget import RetargetOptions, _retarget, bones
from scail_pose_core.skeletons import smpl
from scail_pose_core.types import Camera, Detections, Pose2D, Pose3D, PoseFrame, PoseSequence

HW = (512, 896)
CAM = Camera.from_fov(HW)
T = 30


def _motion(seed: int, offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rest = np.zeros((24, 3))
    for c in range(1, 24):
        rest[c] = rest[smpl.PARENTS[c]] + rng.normal(size=3) * 60 + [0, 70, 0]
    rest -= rest[[10, 11]].mean(axis=0) * [0, 1, 0]
    phase = np.linspace(0, 4 * np.pi, T)[:, None, None]
    wobble = 30 * np.sin(phase + np.arange(24)[None, :, None]) * np.array([1.0, 0.3, 0.5])
    root = np.stack([np.linspace(-300, 300, T), np.zeros(T), np.full(T, 3500.0)], -1)
    return (rest[None] + wobble + root[:, None, :] + np.array(offset)).astype(np.float32)


def _pose2d(joints: np.ndarray, rng: np.random.Generator, ids=None) -> Pose2D:
    """One person per row of ``joints`` (P, 24, 3): projected body, faces/hands with −1 points."""
    p = joints.shape[0]
    body = np.zeros((p, 24, 2))
    for k in range(p):
        body[k, :14] = CAM.project(smpl.smpl24_to_openpose18(joints[k])[:14]) / [HW[1], HW[0]]
    sc = rng.uniform(0.2, 1.0, (p, 24))
    face = rng.uniform(0.3, 0.7, (p, 68, 2))
    face[rng.random((p, 68)) < 0.2] = -1.0
    lh = rng.uniform(0.3, 0.7, (p, 21, 2))
    lh[rng.random((p, 21)) < 0.3] = -1.0
    rh = rng.uniform(0.3, 0.7, (p, 21, 2))
    rh[:, 0] = -1.0  # invisible wrist: scaled about the visible mean
    return Pose2D(
        body, sc, face, rng.random((p, 68)), lh, rng.random((p, 21)), rh, rng.random((p, 21)),
        ids,
    )  # fmt: skip


def _single_sequence() -> tuple[PoseSequence, PoseFrame]:
    rng = np.random.default_rng(1)
    m = _motion(0)
    frames = []
    for i, j in enumerate(m):
        if i == 3:  # nobody in 3D, 2D None
            frames.append(PoseFrame(pose3d=Pose3D.empty()))
        elif i == 4:  # present=False person with zeros, 2D with nobody
            frames.append(
                PoseFrame(pose2d=Pose2D.empty(), pose3d=Pose3D(np.zeros((1, 24, 3), np.float32)))
            )
        elif i == 5:  # no 3D at all
            frames.append(PoseFrame(pose2d=_pose2d(j[None], rng)))
        elif i in (7, 8):  # an extra person and two boxes: only person 0 is kept
            both = np.stack([j, j + np.float32(400)])
            boxes = Detections(np.array([[0, 0, 9, 9], [1, 1, 5, 5]], np.float32), np.ones(2))
            frames.append(PoseFrame(boxes, _pose2d(both, rng), Pose3D(both)))
        else:
            frames.append(PoseFrame(pose2d=_pose2d(j[None], rng), pose3d=Pose3D(j[None])))
    seq = PoseSequence(tuple(frames), HW, 16.0)
    target = bones.typical_lengths(m.astype(np.float64)) * 0.8
    ref3d = bones.rebuild(m[:1].astype(np.float64), target)[0] + [40.0, 0.0, 200.0]
    ref = PoseFrame(pose2d=_pose2d(ref3d[None], rng), pose3d=Pose3D(ref3d[None]))
    return seq, ref


def _multi_sequence() -> tuple[PoseSequence, PoseFrame]:
    rng = np.random.default_rng(2)
    a, b, c = _motion(0), _motion(5, (-600, 0, 300)), _motion(9, (600, 0, 600))
    frames = []
    for i in range(T):
        if i % 7 == 3:  # character 3 missing; order of the others swapped
            j, ids = np.stack([c[i], a[i]]), np.array([9, 7], np.int32)
        elif i % 5 == 2:
            j, ids = np.stack([b[i], c[i], a[i]]), np.array([3, 9, 7], np.int32)
        else:
            j, ids = np.stack([a[i], b[i], c[i]]), np.array([7, 3, 9], np.int32)
        p3 = None if i == 11 else Pose3D(j, track_ids=ids)
        p2 = None if i == 12 else _pose2d(j, rng, ids)
        frames.append(PoseFrame(pose2d=p2, pose3d=p3))
    seq = PoseSequence(tuple(frames), HW, 16.0)
    refs = np.stack([b[0], a[0]]).astype(np.float64)
    refs[0] = bones.rebuild(refs[:1], bones.typical_lengths(refs[0]) * 1.1)[0]
    ref = PoseFrame(pose2d=_pose2d(refs, rng), pose3d=Pose3D(refs))
    return seq, ref


def _assert_same_array(x: np.ndarray, y: np.ndarray, what: str) -> None:
    assert x.dtype == y.dtype and x.shape == y.shape, what
    np.testing.assert_array_equal(x, y, err_msg=what)
    assert not x.flags.writeable, what


def _assert_same(fast: PoseSequence, slow: PoseSequence) -> None:
    assert fast.size_hw == slow.size_hw and fast.fps == slow.fps
    assert fast.camera == slow.camera
    assert fast.meta == slow.meta
    assert len(fast) == len(slow)
    for i, (f, s) in enumerate(zip(fast.frames, slow.frames, strict=True)):
        for kind in ("detections", "pose2d", "pose3d"):
            a, b = getattr(f, kind), getattr(s, kind)
            assert (a is None) == (b is None), (i, kind)
            if a is None:
                continue
            for name in a.__dataclass_fields__:
                _assert_same_array(getattr(a, name), getattr(b, name), f"frame {i} {kind}.{name}")


@pytest.mark.parametrize("mode", ["camera_fit", "bone_lengths"])
@pytest.mark.parametrize("guardrails", [True, False])
def test_retarget_fast_path_single_identical(mode, guardrails):
    seq, ref = _single_sequence()
    opts = RetargetOptions(mode, guardrails=guardrails)
    fast = _retarget(seq, ref, opts, fast=True)
    slow = _retarget(seq, ref, opts, fast=False)
    assert fast.meta["retarget"]["applied"]
    _assert_same(fast, slow)
    # the extra person and box were dropped, the missing frames stay missing
    assert fast.frames[7].pose3d.num_people == 1 and len(fast.frames[7].detections) == 1
    assert fast.frames[3].pose2d is None and fast.frames[5].pose3d is None


def test_retarget_fast_path_bones_without_fit_identical():
    """Bones applied, camera fit impossible (nobody in the reference 2D): K0 and new joints."""
    seq, ref = _single_sequence()
    ref = PoseFrame(pose2d=Pose2D.empty(), pose3d=ref.pose3d)
    opts = RetargetOptions("bone_lengths")
    fast = _retarget(seq, ref, opts, fast=True)
    slow = _retarget(seq, ref, opts, fast=False)
    assert fast.meta["retarget"]["characters"][0]["bones"]["applied"]
    _assert_same(fast, slow)
    assert not np.array_equal(fast.frames[0].pose3d.joints_mm, seq.frames[0].pose3d.joints_mm)


@pytest.mark.parametrize("mode", ["camera_fit", "bone_lengths"])
@pytest.mark.parametrize("identities", [None, {3: 0, 9: 1}, {3: 0, 42: 1}])
def test_retarget_fast_path_multi_identical(mode, identities):
    seq, ref = _multi_sequence()
    opts = RetargetOptions(mode, identities=identities)
    fast = _retarget(seq, ref, opts, fast=True)
    slow = _retarget(seq, ref, opts, fast=False)
    _assert_same(fast, slow)
    if identities is not None:
        assert fast.meta["retarget"]["applied"]
        # character 7 is never touched
        for f, s in zip(fast.frames, seq.frames, strict=True):
            if f.pose3d is not None:
                k = int(np.flatnonzero(s.pose3d.track_ids == 7)[0])
                np.testing.assert_array_equal(f.pose3d.joints_mm[k], s.pose3d.joints_mm[k])


# --------------------------------------------------------------------------------------------
# the per-coordinate 2D helpers of camera_fit give bit-identical results to the plain
# broadcast formulas they replaced (written out here as the reference)


def _ref_invisible(p):
    return np.all(p == -1.0, axis=-1)


def _ref_anchor(points, index):
    pts = np.asarray(points, dtype=np.float64)
    inv = _ref_invisible(pts)
    vis = ~inv
    n = vis.sum(axis=-1, keepdims=True)
    mean = np.where(vis[..., None], pts, 0.0).sum(axis=-2) / np.maximum(n, 1)
    use_mean = inv[..., index] & (n[..., 0] > 0)
    return np.where(use_mean[..., None], mean, pts[..., index, :])[..., None, :]


def _ref_scale_about(pts, c, sx, sy):
    out = (pts - c) * np.array([sx, sy]) + c
    return np.where(_ref_invisible(pts)[..., None], -1.0, out)


def _ref_shift(pts, d):
    return np.where(_ref_invisible(pts)[..., None], -1.0, pts + d)


@pytest.mark.parametrize("lead", [(), (1,), (257,), (3, 5)])
def test_retarget_2d_helpers_bit_identical(lead, rng):
    from scail_pose_core.retarget import camera_fit as cf

    pts = rng.uniform(-0.2, 1.2, (*lead, 68, 2))
    pts[rng.random((*lead, 68)) < 0.3] = -1.0
    pts[..., 5, 0] = -1.0  # only one coordinate −1: visible
    if lead:
        flat = pts.reshape(-1, 68, 2)
        flat[::2, 30] = -1.0  # anchor invisible in half of the rows
        flat[-1] = -1.0  # a row with nothing visible
    d = rng.normal(0, 0.05, (*lead, 1, 2))
    np.testing.assert_array_equal(cf._invisible(pts), _ref_invisible(pts))
    for index in (0, 30):
        ref = _ref_anchor(pts, index)
        got = cf._anchor(pts, index)
        assert got.shape == ref.shape
        np.testing.assert_array_equal(got, ref)
    c = _ref_anchor(pts, 30)
    for sx, sy in ((1.0, 1.0), (0.83, 1.27), (1.4, 0.8 * 1.4)):
        np.testing.assert_array_equal(
            cf.scale_about(pts, c, sx, sy), _ref_scale_about(pts, c, sx, sy)
        )
    np.testing.assert_array_equal(cf.shift_points(pts, d), _ref_shift(pts, d))
    body = rng.uniform(0, 1, (*lead, 24, 2))
    _, b = cf.face_scale_person(pts, body, 1.23)
    shifts = rng.normal(0, 20, (*lead, 3, 2)).astype(np.float32)
    _, b2, _, _ = cf.align_person_2d(pts, body, pts, pts, shifts, (512, 896), (1.1, 0.9))
    np.testing.assert_array_equal(b2, body + shifts[..., :1, :].astype(np.float64) / [896, 512])
    np.testing.assert_array_equal(b, (body - body[..., :1, :]) * 1.23 + body[..., :1, :])
