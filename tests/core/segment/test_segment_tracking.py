"""IdentityTracker / track_pose3d: crossing paths, occlusion gaps, Hungarian gating."""

from __future__ import annotations

import numpy as np
import pytest

from scail_pose_core.errors import InputError
from scail_pose_core.tracking import (
    INFEASIBLE,
    IdentityTracker,
    Observation,
    TrackOptions,
    box_iou,
    mask_box,
    match,
    track_pose3d,
)
from scail_pose_core.types import Camera, Pose3D

SIZE = (480, 640)


def _people(t: int, n: int) -> list[np.ndarray]:
    """Pelvis paths (mm) of n walkers; 0 and 1 cross in the image (same ray at t = 10)."""
    cam = Camera.from_fov(SIZE)
    out = []
    for k in range(n):
        if k == 0:
            z, x_px = 3000.0, 120 + 20 * t  # left → right, near
        elif k == 1:
            z, x_px = 5500.0, 520 - 20 * t  # right → left, far
        else:
            z, x_px = 4200.0, 320 + 3 * np.sin(t)  # stands in the middle
        x = (x_px - cam.cx) * z / cam.fx
        y = (300 - cam.cy) * z / cam.fy
        out.append(np.array([x, y, z], np.float32))
    return out


def _pose(pelvis: list[np.ndarray], order: list[int], hide: set[int]) -> Pose3D:
    rows = [k for k in order if k not in hide]
    j = np.zeros((len(rows), 24, 3), np.float32)
    for i, k in enumerate(rows):
        j[i] = pelvis[k] + np.linspace(0, 500, 24)[:, None] * np.array([0, -1, 0], np.float32)
    return Pose3D(j, np.ones(len(rows), bool)), rows


@pytest.mark.parametrize("n", [2, 3])
def test_track_pose3d_crossing_and_occlusion_never_swaps(n, rng):
    t_n = 21
    frames, truth = [], []
    for t in range(t_n):
        order = list(rng.permutation(n))  # NLF order changes every frame
        hide = {1} if 8 <= t <= 12 else set()  # the far walker is hidden while crossing
        if n == 3 and 15 <= t <= 18:
            hide.add(2)
        pose, rows = _pose(_people(t, n), order, hide)
        frames.append(pose)
        truth.append(rows)
    out = track_pose3d(frames, SIZE)
    ids = out[0].track_ids.tolist()
    assert len(ids) == n, "no identity is created twice (occluded people keep their id)"
    first = {truth[0][i]: int(frames[0].track_ids[i]) for i in range(n)}
    del first
    # map id -> true person using frame 0, then check every frame
    id_of = {}
    for slot, tid in enumerate(out[0].track_ids):
        z = out[0].joints_mm[slot, 0, 2]
        id_of[int(tid)] = int(np.argmin([abs(z - p[2]) for p in _people(0, n)]))
    for t in range(t_n):
        people = _people(t, n)
        for slot, tid in enumerate(out[t].track_ids):
            k = id_of[int(tid)]
            if out[t].present[slot]:
                assert np.allclose(out[t].joints_mm[slot, 0], people[k]), (t, tid)
            else:
                assert k not in truth[t], (t, k)
        assert int(out[t].present.sum()) == len(truth[t])


def test_elimination_rematches_far_reappearance():
    tr = IdentityTracker(SIZE, TrackOptions(max_ids=2, dist3d_weight=0.0, overlap_weight=0.0))
    a = Observation(center_xy=np.array([100.0, 100.0]))
    b = Observation(center_xy=np.array([500.0, 100.0]))
    assert tr.update([a, b]).tolist() == [0, 1]
    assert tr.update([a]).tolist() == [0]
    # person 1 re-appears far away (beyond the gate): by elimination it is still id 1
    far = Observation(center_xy=np.array([300.0, 400.0]))
    assert tr.update([far, a]).tolist() == [1, 0]
    # without a cap, a far re-appearance is a new person
    free = IdentityTracker(SIZE, TrackOptions(dist3d_weight=0.0, overlap_weight=0.0))
    free.update([a, b])
    assert free.update([a, far]).tolist() == [0, 2]


def test_missing_track_keeps_id_reserved_then_retires():
    opts = TrackOptions(max_missing_frames=3, overlap_weight=0.0, dist3d_weight=0.0)
    tr = IdentityTracker(SIZE, opts)
    a = Observation(center_xy=np.array([100.0, 100.0]))
    b = Observation(center_xy=np.array([500.0, 300.0]))
    tr.update([a, b])
    for _ in range(3):
        assert tr.update([a]).tolist() == [0]
    assert 1 in tr.track_ids  # still reserved
    assert tr.update([b, a]).tolist() == [1, 0]  # comes back with its id
    for _ in range(5):
        tr.update([a])
    assert tr.track_ids == [0]  # retired after max_missing_frames
    assert tr.update([a, b]).tolist() == [0, 2]  # ids are never reused


def test_fixed_ids_and_extra_cost():
    tr = IdentityTracker(SIZE, fixed_ids=[3, 7])
    obs = [
        Observation(center_xy=np.array([10.0, 10.0])),
        Observation(center_xy=np.array([9.0, 9.0])),
    ]
    extra = np.array([[0.9, 0.1], [0.2, INFEASIBLE]])
    assert tr.update(obs, extra).tolist() == [7, 3]
    with pytest.raises(InputError, match="extra_cost"):
        tr.update(obs, np.zeros((1, 2)))
    with pytest.raises(InputError, match="duplicate"):
        IdentityTracker(SIZE, fixed_ids=[1, 1])
    # never-seen fixed tracks without an extra cost are not matched
    assert IdentityTracker(SIZE, fixed_ids=[0]).update(obs).tolist() == [-1, -1]


def test_match_gate_and_geometry_helpers():
    cost = np.array([[0.1, 0.5], [0.2, 2.0]])
    assert sorted(match(cost, 1.0)) == [(0, 1), (1, 0)]
    assert match(cost, 0.15) == [(0, 0)]
    assert match(np.zeros((0, 3)), 1.0) == []
    assert box_iou(np.array([0, 0, 2, 2.0]), np.array([1, 0, 3, 2.0])) == pytest.approx(1 / 3)
    m = np.zeros((5, 6), bool)
    assert mask_box(m) is None
    m[1:3, 2:5] = True
    assert mask_box(m).tolist() == [2, 1, 5, 3]
    with pytest.raises(InputError):
        TrackOptions(max_cost=0)
