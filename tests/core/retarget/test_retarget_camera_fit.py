"""The reference camera fit (reference_spec.md §6, §5.6, §12.7) and the scail_001_align golden."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support_paths import shared_path

from scail_pose_core.formats.reference_dict import pose2d_from_reference_dict
from scail_pose_core.retarget import RetargetOptions, camera_fit, retarget
from scail_pose_core.skeletons import smpl
from scail_pose_core.types import Camera, Pose3D, PoseFrame, PoseSequence

HW = (512, 896)
F = 860.599993


def r5_joints() -> np.ndarray:
    """The R5 skeleton of reference_spec.md §12.6 (SMPL-24, mm, float32)."""
    j = np.zeros((24, 3), np.float32)
    pts = {
        0: (0, 0, 4000), 1: (90, 80, 4000), 2: (-90, 80, 4000), 4: (100, 480, 4000),
        5: (-100, 480, 4000), 7: (110, 880, 4000), 8: (-110, 880, 4000), 12: (0, -500, 4000),
        15: (0, -680, 4000), 16: (180, -450, 4000), 17: (-180, -450, 4000),
        18: (450, -450, 3900), 19: (-450, -450, 3900), 20: (700, -450, 3800),
        21: (-700, -450, 3800),
    }  # fmt: skip
    for k, v in pts.items():
        j[k] = v
    return j


def targets(m: float, s: float, p: float, q: float) -> np.ndarray:
    """OpenPose-18 pixel targets of the R5 skeleton under (m, s, p, q) (§12.7)."""
    op18 = smpl.smpl24_to_openpose18(r5_joints()).astype(np.float64)
    h, w = HW
    with np.errstate(divide="ignore", invalid="ignore"):
        u = F * m * op18[:, 0] / op18[:, 2] + w / 2 + p
        v = F * m * s * op18[:, 1] / op18[:, 2] + h / 2 + q
    return np.stack([u, v], -1)


@pytest.mark.parametrize(
    ("mode", "idx"), [("central", [1, 0, 2, 3, 5, 6]), ("down", [1, 9, 10, 12, 13])]
)
def test_retarget_solve_recovers_camera(mode, idx):
    tg = targets(1.1, 0.95, 20, -30)
    op18 = smpl.smpl24_to_openpose18(r5_joints())
    res = camera_fit.solve_camera(tg[idx], op18[idx], mode, HW, F, tuple(idx))
    assert res.m == pytest.approx(1.1, abs=1e-5)
    assert res.s == pytest.approx(0.95, abs=1e-5)
    want = np.array([[946.660, 0, 468.0], [0, 899.327, 226.0], [0, 0, 1]])
    np.testing.assert_allclose(res.camera.K, want, atol=2e-3)
    assert res.bounds_hit == ()
    assert res.rms_px < 1e-2


def test_retarget_solve_clamped_reports_bound():
    tg = targets(1.6, 1.0, 0, 0)
    idx = [1, 0, 2, 3, 5, 6]
    op18 = smpl.smpl24_to_openpose18(r5_joints())
    res = camera_fit.solve_camera(tg[idx], op18[idx], "central", HW, F, tuple(idx))
    assert res.m == pytest.approx(1.4, abs=1e-6)
    assert res.s == pytest.approx(1.14286, abs=1e-4)
    assert abs(res.p) < 0.05 and abs(res.q) < 0.05
    np.testing.assert_allclose(
        res.camera.K, [[1204.84, 0, 448], [0, 1376.96, 256], [0, 0, 1]], atol=0.05
    )
    assert "m" in res.bounds_hit and "s" not in res.bounds_hit


def test_retarget_point_selection_modes():
    op18 = smpl.smpl24_to_openpose18(r5_joints())
    full = np.arange(18, dtype=np.float64)
    assert camera_fit.select_points(full, op18) == ("down", (1, 9, 10, 12, 13))
    half = full.copy()
    half[[10]] = -1  # one ankle missing → central
    assert camera_fit.select_points(half, op18) == ("central", (1, 0, 2, 3, 5, 6))
    # neck always included even when invisible; invalid upper points dropped
    odd = full.copy()
    odd[[1, 3, 10]] = -1
    assert camera_fit.select_points(odd, op18) == ("central", (1, 0, 2, 5, 6))
    # a 3D point that sums to 0 is invalid even when the 2D point is visible
    z = op18.copy()
    z[12] = 0
    assert camera_fit.select_points(full, z) == ("central", (1, 0, 2, 3, 5, 6))


def test_retarget_shift_vectors():
    k0 = Camera.from_fov(HW)
    k_new = Camera(fx=F * 1.1, fy=F * 1.1 * 0.95, cx=468.0, cy=226.0, size_hw=HW)
    j = r5_joints()
    d = camera_fit.projected_shift(j[[15, 20, 21]], k0, k_new)
    np.testing.assert_allclose(d[0], [20, -36.5836], atol=2e-3)
    np.testing.assert_allclose(d[0] / [896, 512], [0.022321, -0.071452], atol=1e-6)
    np.testing.assert_allclose(d[1], [35.8532, -34.5861], atol=2e-3)
    np.testing.assert_allclose(d[2], [4.1468, -34.5861], atol=2e-3)
    assert d.dtype == np.float32
    # z ≤ 0.01 → no shift
    assert np.all(camera_fit.projected_shift(np.array([[5.0, 5.0, 0.01]]), k0, k_new) == 0)


def test_retarget_face_ratio_clamp(rng):
    base = rng.uniform(0.4, 0.6, size=(68, 2))

    def scaled(k):
        return (base - base[30]) * k + base[30]

    assert camera_fit.face_scale_ratio(base, scaled(2.0)) == 1.5
    assert camera_fit.face_scale_ratio(base, scaled(0.5)) == 0.8
    assert camera_fit.face_scale_ratio(base, scaled(1.2)) == pytest.approx(1.2)
    # −1 points count in the means, as the reference
    with_inv = base.copy()
    with_inv[0] = -1
    keep = np.arange(68) != 30
    d0 = np.linalg.norm(with_inv[keep] - with_inv[30], axis=-1).mean()
    dr = np.linalg.norm(scaled(1.2)[keep] - base[30], axis=-1).mean()
    assert camera_fit.face_scale_ratio(with_inv, scaled(1.2)) == pytest.approx(dr / d0)


def test_retarget_hand_scale_about_wrist():
    hand = np.full((21, 2), 0.5)
    hand[1:] += 0.01 * np.arange(1, 21)[:, None]
    hand[5] = -1
    face = np.full((68, 2), 0.3)
    body = np.full((24, 2), 0.3)
    shifts = np.array([[0, 0], [8.96, 5.12], [0, 0]], np.float32)
    f, b, lh, rh = camera_fit.align_person_2d(face, body, hand, hand, shifts, HW, (0.9, 0.8))
    np.testing.assert_allclose(lh[0], [0.51, 0.51])
    np.testing.assert_allclose(lh[3], [0.51 + 0.03 * 0.9, 0.51 + 0.03 * 0.8])
    assert np.all(lh[5] == -1) and np.all(rh[5] == -1)
    np.testing.assert_allclose(rh[3], [0.5 + 0.03 * 0.9, 0.5 + 0.03 * 0.8])


def _golden_inputs():
    d = json.loads(shared_path("golden_overlay", "scail_001_align", "pose2d.json").read_text())
    motion = json.loads(shared_path("motion", "scail_001.json").read_text())
    inp = json.loads(shared_path("golden_overlay", "scail_001_align", "input.json").read_text())
    frames = []
    for e in d["driving"]:
        j = np.array(motion["frames"][e["index"]][0], np.float32)
        frames.append(
            PoseFrame(pose2d=pose2d_from_reference_dict(e["pose"]), pose3d=Pose3D(j[None]))
        )
    # the golden's own frame-0 3D is the same motion, float32
    j0 = np.array(inp["frames"][0]["persons"][0]["smpl24"], np.float32)
    np.testing.assert_array_equal(frames[0].pose3d.joints_mm[0], j0)
    seq = PoseSequence(tuple(frames), tuple(d["size_hw"]), 16.0)
    ref = PoseFrame(pose2d=pose2d_from_reference_dict(d["reference_image"]["pose"]))
    return d, seq, ref


def test_retarget_golden_scail_001_align():
    d, seq, ref = _golden_inputs()
    out = retarget(seq, ref, RetargetOptions(mode="camera_fit"))
    a = d["alignment"]
    cf = out.meta["retarget"]["characters"][0]["camera_fit"]
    assert cf["applied"] is True
    assert cf["mode"] == a["mode"] == "down"
    assert cf["selected_indices"] == a["selected_indices"]
    for k in ("m", "s", "p", "q"):
        assert cf[k] == pytest.approx(a[k], abs=1e-3), k
    assert cf["face_ratio"] == pytest.approx(a["face_ratio"], abs=1e-9)
    np.testing.assert_allclose(out.camera.K, a["K_new"], atol=1e-3)
    assert out.meta["retarget"]["warnings"] == []
    # the shifts we apply equal the reference's float32 shifts when computed with its K_new
    k_ref = Camera.from_matrix(np.array(a["K_new"]), seq.size_hw)
    for fi, sh in a["shift_px_per_frame"].items():
        j = seq.frames[int(fi)].pose3d.joints_mm[0][[15, 20, 21]]
        got = camera_fit.projected_shift(j, seq.base_camera, k_ref)
        want = np.array([sh["15"], sh["20"], sh["21"]], np.float32)
        np.testing.assert_array_equal(got, want)
    # the shifted/scaled 2D equals what the reference drew
    for fi, dr in d["drawn"].items():
        p = out.frames[int(fi)].pose2d
        assert p.num_people == 1
        hands = np.array(dr["hands"])
        pairs = (
            (p.face_norm[0], np.array(dr["faces"][0])),
            (p.lhand_norm[0], hands[0]),
            (p.rhand_norm[0], hands[1]),
            (p.body_norm[0], np.array(dr["bodies"]["candidate"][0])),
        )
        for mine, want in pairs:
            inv = np.all(mine == -1, axis=-1)
            assert np.all(want[inv] < 0)  # the reference moved them but they stay off-image
            np.testing.assert_allclose(mine[~inv], want[~inv], atol=1e-6)
