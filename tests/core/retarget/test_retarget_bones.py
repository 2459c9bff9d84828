"""Bone-length retargeting on real motion, placement, guardrails and multi-person handling."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support_paths import shared_path

from scail_pose_core.retarget import RetargetOptions, bones, placement, retarget
from scail_pose_core.skeletons import smpl
from scail_pose_core.types import Camera, Pose2D, Pose3D, PoseFrame, PoseSequence

HW = (512, 896)
CAM = Camera.from_fov(HW)
LEGS = [4, 5, 7, 8, 10, 11]


def _load_motion() -> np.ndarray:
    mo = json.loads(shared_path("motion", "scail_001.json").read_text())
    return np.array([f[0] for f in mo["frames"]], np.float64)


def _planted_driver() -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Real motion with constant (median) bone lengths and foot contacts pinned exactly.

    Returns the (T, 24, 3) float32-representable motion and the pinned intervals
    (joint, first, last frame).
    """
    j = _load_motion()
    t = j.shape[0]
    clean = bones.rebuild(j, bones.typical_lengths(j))
    v = np.ones(t, bool)
    up = placement.estimate_up(clean, v)
    c = placement.detect_contacts(clean, v, up, 16.0)
    used = np.zeros(t, bool)
    keep = []
    for k, jn in ((2, smpl.L_FOOT), (3, smpl.R_FOOT)):
        i = 0
        while i < t:
            if c[i, k]:
                e = i
                while e + 1 < t and c[e + 1, k]:
                    e += 1
                if e > i and not used[i : e + 1].any():
                    used[i : e + 1] = True
                    keep.append((jn, i, e))
                i = e + 1
            else:
                i += 1
    off = np.zeros((t, 3))
    for jn, i, e in keep:
        off[i : e + 1] = clean[i, jn] - clean[i : e + 1, jn]
    cur = np.zeros(3)
    for k in range(t):
        if used[k]:
            cur = off[k].copy()
        else:
            off[k] = cur
    planted = (clean + off[:, None, :]).astype(np.float32).astype(np.float64)
    assert len(keep) >= 3
    return planted, keep


def _pose2d_of(joints: np.ndarray, legs_visible: bool = True, face_scale: float = 1.0) -> Pose2D:
    """A reference-style 2D pose projected from SMPL joints (body, face, hands)."""
    op18 = smpl.smpl24_to_openpose18(joints)
    body = np.zeros((24, 2))
    body[:14] = CAM.project(op18[:14]) / [HW[1], HW[0]]
    scores = np.zeros(24)
    scores[:14] = 0.9
    if not legs_visible:
        scores[[9, 10, 12, 13]] = 0.1
    head = body[0]
    ang = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    face = head + 0.02 * face_scale * np.stack([np.cos(ang), np.sin(ang)], -1)
    face[30] = head
    wrists = CAM.project(joints[[smpl.L_WRIST, smpl.R_WRIST]]) / [HW[1], HW[0]]
    fan = 0.004 * np.arange(21)[:, None] * np.array([1.0, 0.5])
    lh, rh = wrists[0] + fan, wrists[1] + fan
    return Pose2D(
        body[None], scores[None], face[None], np.ones((1, 68)), lh[None], np.ones((1, 21)),
        rh[None], np.ones((1, 21)),
    )  # fmt: skip


def _sequence(motion: np.ndarray) -> PoseSequence:
    frames = tuple(
        PoseFrame(pose2d=_pose2d_of(j), pose3d=Pose3D(j[None].astype(np.float32))) for j in motion
    )
    return PoseSequence(frames, HW, 16.0)


def _target(kind: str, drv_len: np.ndarray) -> np.ndarray:
    s = np.ones(24)
    if kind == "child":
        s[:] = 0.62
        s[LEGS] = 0.55
        s[smpl.HEAD] = 0.85
    elif kind == "tall":
        s[:] = 1.12
        s[LEGS] = 1.18
    elif kind == "chibi":
        s[LEGS] = 0.6
        s[smpl.HEAD] = 1.5
    return drv_len * s


def _reference(
    motion: np.ndarray, lengths: np.ndarray, shift=(60.0, 0.0, 300.0), legs_visible=True
) -> PoseFrame:
    ref3d = bones.rebuild(motion[:1], lengths)[0] + np.array(shift)
    return PoseFrame(
        pose2d=_pose2d_of(ref3d, legs_visible, face_scale=1.2),
        pose3d=Pose3D(ref3d[None].astype(np.float32)),
    )


def _joints(seq: PoseSequence) -> np.ndarray:
    return np.array([f.pose3d.joints_mm[0] for f in seq.frames], np.float64)


@pytest.fixture(scope="module")
def driver():
    return _planted_driver()


@pytest.mark.parametrize("kind", ["child", "tall", "chibi"])
def test_retarget_round_trip_proportions(driver, kind):
    motion, pinned = driver
    target = _target(kind, bones.typical_lengths(motion))
    out = retarget(_sequence(motion), _reference(motion, target), RetargetOptions("bone_lengths"))
    res = _joints(out)
    # every bone of every frame has the character's length
    err = np.abs(bones.bone_lengths(res) - target)[:, 1:]
    assert err.max() < 1.0, err.max()
    # the driver's bone directions
    a, b = bones.bone_vectors(res)[:, 1:], bones.bone_vectors(motion)[:, 1:]
    cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 0.5
    # planted feet stay planted (vertical drift < 5 mm over each contact)
    rep = out.meta["retarget"]["characters"][0]
    up = np.array(rep["bones"]["placement"]["up"])
    for jn, i, e in pinned:
        assert np.ptp(motion[i : e + 1, jn] @ up) < 1e-3  # planted in the input
        assert np.ptp(res[i : e + 1, jn] @ up) < 5.0, (kind, jn, i, e)
        # on the driver's floor: no floating, no sinking
        assert np.abs(res[i : e + 1, jn] @ up - motion[i : e + 1, jn] @ up).max() < 5.0
    assert rep["bones"]["applied"] and rep["bones"]["hidden_bones"] == []
    # the camera fit on top was applied and is sane
    cf = rep["camera_fit"]
    assert cf["applied"] and cf["mode"] == "down" and cf["rms_px"] < 5.0
    assert out.camera.K[0, 0] != CAM.K[0, 0]


def test_retarget_own_proportions_is_identity(driver):
    motion, _ = driver
    own = bones.typical_lengths(motion)
    out = retarget(_sequence(motion), _reference(motion, own), RetargetOptions("bone_lengths"))
    assert np.abs(_joints(out) - motion).max() < 1.0


def test_retarget_2d_follows_retargeted_joints(driver):
    motion, _ = driver
    target = _target("chibi", bones.typical_lengths(motion))
    out = retarget(_sequence(motion), _reference(motion, target), RetargetOptions("bone_lengths"))
    res = _joints(out)
    wh = np.array([HW[1], HW[0]])
    for i in (0, 20, 50):
        p = out.frames[i].pose2d
        want_l = out.camera.project(res[i, smpl.L_WRIST]) / wh
        want_r = out.camera.project(res[i, smpl.R_WRIST]) / wh
        np.testing.assert_allclose(p.lhand_norm[0, 0], want_l, atol=1e-5)
        np.testing.assert_allclose(p.rhand_norm[0, 0], want_r, atol=1e-5)
        want_head = out.camera.project(res[i, smpl.HEAD]) / wh
        np.testing.assert_allclose(p.face_norm[0, 30], want_head, atol=1e-5)


def test_retarget_half_body_reference(driver):
    motion, _ = driver
    drv_len = bones.typical_lengths(motion)
    target = drv_len * 0.8
    ref = _reference(motion, target, legs_visible=False)
    j = np.array(ref.pose3d.joints_mm)
    j[0, [4, 5, 7, 8, 10, 11]] = 0.0  # legs not measured at all
    ref = PoseFrame(pose2d=ref.pose2d, pose3d=Pose3D(j))
    out = retarget(_sequence(motion), ref, RetargetOptions("bone_lengths"))
    rep = out.meta["retarget"]["characters"][0]
    assert any("does not show" in w for w in rep["warnings"])
    assert set(rep["bones"]["hidden_bones"]) >= {"l_knee", "r_knee", "l_ankle", "r_ankle"}
    lengths = bones.bone_lengths(_joints(out))
    # hidden legs scaled by the visible bones' ratio (0.8)
    np.testing.assert_allclose(
        lengths[:, LEGS], np.broadcast_to(target[LEGS], (len(motion), 6)), atol=1.0
    )
    assert rep["camera_fit"]["mode"] == "central"
    assert rep["camera_fit"]["applied"]
    assert np.isfinite(_joints(out)).all()


def test_retarget_nobody_in_reference(driver):
    motion, _ = driver
    seq = _sequence(motion)
    ref = PoseFrame(pose2d=Pose2D.empty(), pose3d=None)
    for mode in ("camera_fit", "bone_lengths"):
        out = retarget(seq, ref, RetargetOptions(mode))
        rep = out.meta["retarget"]
        assert rep["applied"] is False
        assert any("nobody" in w for w in rep["warnings"])
        np.testing.assert_array_equal(out.camera.K, CAM.K)
        np.testing.assert_array_equal(_joints(out), _joints(seq))
        np.testing.assert_array_equal(
            out.frames[3].pose2d.face_norm, seq.frames[3].pose2d.face_norm
        )


def test_retarget_guardrail_falls_back(driver):
    motion, _ = driver
    seq = _sequence(motion)
    ref = _reference(motion, bones.typical_lengths(motion))
    p = ref.pose2d
    body = np.array(p.body_norm)
    body[0, [9, 10]] = [[0.05, 0.1], [0.95, 0.1]]  # knee/ankle far from anything consistent
    bad = Pose2D(body, p.body_scores, p.face_norm, p.face_scores, p.lhand_norm, p.lhand_scores,
                 p.rhand_norm, p.rhand_scores)  # fmt: skip
    ref = PoseFrame(pose2d=bad, pose3d=ref.pose3d)
    out = retarget(seq, ref, RetargetOptions("camera_fit"))
    cf = out.meta["retarget"]["characters"][0]["camera_fit"]
    assert cf["applied"] is False and cf["guardrail_reasons"]
    np.testing.assert_array_equal(out.camera.K, CAM.K)
    loose = retarget(seq, ref, RetargetOptions("camera_fit", guardrails=False))
    assert loose.meta["retarget"]["characters"][0]["camera_fit"]["applied"] is True
    assert any("guardrails are off" in w for w in loose.meta["retarget"]["warnings"])


def test_retarget_missing_frames_tolerated(driver):
    motion, _ = driver
    seq = _sequence(motion)
    frames = list(seq.frames)
    frames[0] = PoseFrame(pose2d=frames[0].pose2d, pose3d=Pose3D.empty())
    frames[5] = PoseFrame(pose2d=None, pose3d=Pose3D(np.zeros((1, 24, 3), np.float32)))
    seq = PoseSequence(tuple(frames), HW, 16.0)
    target = _target("child", bones.typical_lengths(motion))
    out = retarget(seq, _reference(motion, target), RetargetOptions("bone_lengths"))
    rep = out.meta["retarget"]["characters"][0]
    assert rep["camera_fit"]["fit_frame"] == 1
    assert out.frames[0].pose3d.num_people == 0 and out.frames[5].pose2d is None
    assert np.all(out.frames[5].pose3d.joints_mm == 0)
    lengths = bones.bone_lengths(_joints(PoseSequence(out.frames[6:], HW)))
    assert np.abs(lengths - target)[:, 1:].max() < 1.0


def test_retarget_multi_person_per_character(driver):
    motion, _ = driver
    other = motion + np.array([-700.0, 0.0, 400.0])

    def pose2d_two(a, b):
        pa, pb = _pose2d_of(a), _pose2d_of(b)
        cat = lambda x, y: np.concatenate([x, y])  # noqa: E731
        return Pose2D(
            cat(pa.body_norm, pb.body_norm), cat(pa.body_scores, pb.body_scores),
            cat(pa.face_norm, pb.face_norm), cat(pa.face_scores, pb.face_scores),
            cat(pa.lhand_norm, pb.lhand_norm), cat(pa.lhand_scores, pb.lhand_scores),
            cat(pa.rhand_norm, pb.rhand_norm), cat(pa.rhand_scores, pb.rhand_scores),
            np.array([7, 3], np.int32),
        )  # fmt: skip

    frames = tuple(
        PoseFrame(
            pose2d=pose2d_two(a, b),
            pose3d=Pose3D(np.stack([a, b]).astype(np.float32), track_ids=np.array([7, 3])),
        )
        for a, b in zip(motion, other, strict=True)
    )
    seq = PoseSequence(frames, HW, 16.0)
    target = _target("child", bones.typical_lengths(motion))
    ref = _reference(other, target)
    # no mapping: left as is with a warning
    out = retarget(seq, ref, RetargetOptions("bone_lengths"))
    assert any("identity mapping" in w for w in out.meta["retarget"]["warnings"])
    np.testing.assert_array_equal(out.frames[4].pose3d.joints_mm, seq.frames[4].pose3d.joints_mm)
    # character 3 mapped to reference person 0; character 7 untouched
    out = retarget(seq, ref, RetargetOptions("bone_lengths", identities={3: 0}))
    assert out.frames[4].pose3d.num_people == 2
    np.testing.assert_array_equal(
        out.frames[4].pose3d.joints_mm[0], seq.frames[4].pose3d.joints_mm[0]
    )
    np.testing.assert_array_equal(
        out.frames[4].pose2d.face_norm[0], seq.frames[4].pose2d.face_norm[0]
    )
    np.testing.assert_array_equal(out.camera.K, CAM.K)  # shared camera: fit expressed in 3D
    cf = out.meta["retarget"]["characters"][0]["camera_fit"]
    assert cf["applied"] and cf["expressed_as"] == "3d_linear_map"
    # the 3D map projects through K0 like the retargeted joints through K_new
    k_new = Camera.from_matrix(np.array(cf["K_new"]), HW)
    j1 = np.array([f.pose3d.joints_mm[1] for f in out.frames], np.float64)
    wrist2d = np.array([f.pose2d.lhand_norm[1, 0] for f in out.frames])
    np.testing.assert_allclose(CAM.project(j1[:, smpl.L_WRIST]) / [896, 512], wrist2d, atol=1e-5)
    assert k_new.fx != CAM.fx


def test_retarget_none_mode_unchanged(driver):
    motion, _ = driver
    seq = _sequence(motion)
    out = retarget(seq, _reference(motion, bones.typical_lengths(motion)), RetargetOptions("none"))
    assert out.frames == seq.frames and out.meta["retarget"]["mode"] == "none"


def test_retarget_reference_lengths_rules():
    drv = np.full(24, 300.0)
    drv[0] = 0
    ref = bones.rebuild(np.tile(_unit_skeleton(), (1, 1, 1)), drv * 0.5)[0]
    ref[smpl.L_FOOT] = ref[smpl.L_ANKLE] + [0, 0, 5000]  # implausibly long bone
    vis = np.ones(18, bool)
    vis[13] = False  # left ankle not shown: l_ankle (knee→ankle) and l_foot hidden
    r = bones.reference_lengths(ref, drv, vis)
    assert not r.measured[smpl.L_ANKLE] and not r.measured[smpl.L_FOOT]
    assert r.ratio == pytest.approx(0.5)
    np.testing.assert_allclose(r.lengths[1:], 150.0, atol=1e-6)


def _unit_skeleton() -> np.ndarray:
    rng = np.random.default_rng(3)
    j = np.zeros((24, 3))
    for c in range(1, 24):
        j[c] = j[smpl.PARENTS[c]] + rng.normal(size=3) * 100
    return j + [0, 0, 3000]


def test_retarget_rebuild_degenerate_bone():
    j = np.stack([_unit_skeleton(), _unit_skeleton()])
    j[1, 20] = j[1, 18]  # zero-length forearm in frame 1
    lengths = np.full(24, 100.0)
    out = bones.rebuild(j, lengths)
    np.testing.assert_allclose(bones.bone_lengths(out)[:, 1:], 100.0, atol=1e-9)


def test_retarget_carphone_motion_lengths_and_directions():
    mo = json.loads(shared_path("motion", "carphone.json").read_text())
    motion = np.array([f[0] for f in mo["frames"]], np.float64)
    target = _target("chibi", bones.typical_lengths(motion))
    seq = PoseSequence(_sequence(motion).frames, HW, float(mo["fps"]))
    out = retarget(seq, _reference(motion, target), RetargetOptions("bone_lengths"))
    res = _joints(out)
    assert np.abs(bones.bone_lengths(res) - target)[:, 1:].max() < 1.0
    a, b = bones.bone_vectors(res)[:, 1:], bones.bone_vectors(motion)[:, 1:]
    cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 0.5
