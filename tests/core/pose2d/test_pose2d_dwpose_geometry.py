"""DWPose crop / normalisation / SimCC / 133→134 conversion (reference_spec.md §3, §12.3, §12.4)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scail_pose_core.errors import InputError, ModelFormatError
from scail_pose_core.pose2d.convert import wholebody_to_op134, wholebody_to_pose2d
from scail_pose_core.pose2d.crop import (
    box_to_center_scale,
    crop_and_normalize,
    fix_aspect,
    normalize_crop,
    warp_matrix,
)
from scail_pose_core.pose2d.dwpose import DWPoseEstimator
from scail_pose_core.pose2d.simcc import decode_simcc, to_image_coords
from scail_pose_core.skeletons import openpose as op


def test_box_vector_100_50_300_450() -> None:
    c, s = box_to_center_scale(np.array([[100, 50, 300, 450]]))
    np.testing.assert_array_equal(c, [[200, 250]])
    np.testing.assert_array_equal(s, [[250, 500]])
    s = fix_aspect(s, 288 / 384)
    np.testing.assert_array_equal(s, [[375, 500]])
    m = warp_matrix(c[0], s[0], (288, 384))
    np.testing.assert_allclose(m, [[0.768, 0, -9.6], [0, 0.768, 0]], atol=1e-6)


def test_wide_box_vector() -> None:
    c, s = box_to_center_scale(np.array([[0, 100, 800, 300]]))
    np.testing.assert_array_equal(c, [[400, 200]])
    np.testing.assert_allclose(fix_aspect(s, 0.75), [[1000, 1333.333]], rtol=1e-6)


def test_simcc_example_vector() -> None:
    sx = np.zeros((1, 1, 576), np.float32)
    sy = np.zeros((1, 1, 768), np.float32)
    sx[0, 0, 288], sy[0, 0, 100] = 0.7, 0.6
    locs, scores = decode_simcc(sx, sy)
    np.testing.assert_array_equal(locs, [[[144, 50]]])
    assert scores[0, 0] == pytest.approx(0.6)  # min of the two maxima
    img = to_image_coords(locs, np.array([[200, 250]]), np.array([[375, 500]]), (288, 384))
    np.testing.assert_allclose(img[0, 0], [200.0, 65.1041667], atol=1e-6)


def test_simcc_first_max_on_ties_and_nonpositive_score() -> None:
    sx = np.zeros((1, 2, 576), np.float32)
    sy = np.zeros((1, 2, 768), np.float32)
    sx[0, 0, [10, 20]] = 0.5  # tie → first
    sy[0, 0, 30] = 0.9
    sx[0, 1, 40] = 0.9  # y all zero → score 0 → location −1 before the split
    locs, scores = decode_simcc(sx, sy)
    np.testing.assert_array_equal(locs[0, 0], [5, 15])
    np.testing.assert_array_equal(locs[0, 1], [-0.5, -0.5])
    assert scores[0, 1] == 0


def test_crop_equals_reference_warp_and_normalisation(rng) -> None:
    frame = rng.integers(0, 256, (512, 896, 3), dtype=np.uint8)
    boxes = np.array([[100, 50, 300, 450], [600.5, 20.25, 880, 500]], np.float32)
    x, centers, scales = crop_and_normalize(frame, boxes)
    bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    mean = np.array([123.675, 116.28, 103.53])
    std = np.array([58.395, 57.12, 57.375])
    for i in range(2):
        m = warp_matrix(centers[i], scales[i], (288, 384))
        crop = cv2.warpAffine(bgr, m, (288, 384), flags=cv2.INTER_LINEAR)
        ref = ((crop - mean) / std).transpose(2, 0, 1).astype(np.float32)
        np.testing.assert_array_equal(x[i], ref)


def test_normalize_crop_channel_order() -> None:
    crop = np.zeros((2, 2, 3), np.uint8)
    crop[..., 0] = 200  # red
    out = normalize_crop(crop)
    assert out[2, 0, 0] == pytest.approx((200 - 103.53) / 57.375, rel=1e-6)  # R is channel 2
    assert out[0, 0, 0] == pytest.approx((0 - 123.675) / 58.395, rel=1e-6)  # B gets 123.675


def test_crop_maps_box_centre_to_crop_centre() -> None:
    frame = np.zeros((400, 600, 3), np.uint8)
    frame[199:202, 299:302] = 255  # a 3x3 white square centred at (300, 200)
    x, _, _ = crop_and_normalize(frame, np.array([[250, 100, 350, 300]]))
    v = x[0, 0] * 58.395 + 123.675
    ys, xs = np.nonzero(v > 1)
    w = v[ys, xs]
    assert (xs * w).sum() / w.sum() == pytest.approx(144, abs=0.05)
    assert (ys * w).sum() / w.sum() == pytest.approx(192, abs=0.05)


def test_neck_example_12_4() -> None:
    kp = np.zeros((1, 133, 2))
    sc = np.full((1, 133), 0.9, np.float32)
    kp[0, 5], sc[0, 5] = (0.4 * 100, 0.3 * 50), 0.9  # left shoulder
    kp[0, 6], sc[0, 6] = (0.6 * 100, 0.3 * 50), 0.2  # right shoulder (weak)
    pose = wholebody_to_pose2d(kp, sc, (50, 100))
    np.testing.assert_allclose(pose.body_norm[0, 1], [0.5, 0.3])
    assert pose.body_scores[0, 1] == 0.0
    assert pose.body_subset[0, 1] == -1
    sc[0, 6] = 0.31
    pose = wholebody_to_pose2d(kp, sc, (50, 100))
    assert pose.body_scores[0, 1] == 1.0 and pose.body_subset[0, 1] == 1


def test_op134_order_and_visibility() -> None:
    p = 2
    kp = np.stack(
        [np.stack([np.arange(133) + 1000 * i, np.arange(133) * 2.0], -1) for i in range(p)]
    )
    sc = np.full((p, 133), 0.9, np.float32)
    xy, s = wholebody_to_op134(kp, sc)
    assert xy.shape == (p, 134, 2) and s.shape == (p, 134)
    body_src = [0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3]
    for j, src in enumerate(body_src):
        if src is not None:
            np.testing.assert_array_equal(xy[:, j], kp[:, src])
    np.testing.assert_array_equal(xy[:, 18:24], kp[:, 17:23])  # feet
    np.testing.assert_array_equal(xy[:, 24:92], kp[:, 23:91])  # face
    np.testing.assert_array_equal(xy[:, 92:113], kp[:, 91:112])  # left hand
    np.testing.assert_array_equal(xy[:, 113:134], kp[:, 112:133])  # right hand

    sc[1, 0] = 0.1  # nose (body): coordinates kept, subset −1
    sc[1, 23 + 5] = 0.29  # a face point → −1
    sc[1, 91 + 3] = 0.3  # a left-hand point exactly at 0.3 stays (face/hand hide only < 0.3)
    sc[1, 112 + 7] = 0.0  # a right-hand point → −1
    pose = wholebody_to_pose2d(kp, sc, (400, 1000))
    np.testing.assert_allclose(pose.body_norm[1, 0], kp[1, 0] / [1000, 400])
    assert pose.body_subset[1, 0] == -1 and pose.body_subset[0, 0] == 0
    np.testing.assert_array_equal(pose.face_norm[1, 5], [op.INVISIBLE, op.INVISIBLE])
    np.testing.assert_allclose(pose.lhand_norm[1, 3], kp[1, 94] / [1000, 400])
    np.testing.assert_array_equal(pose.rhand_norm[1, 7], [op.INVISIBLE, op.INVISIBLE])
    assert np.all(pose.face_norm[0] >= 0)  # person 0 untouched
    assert pose.face_scores[1, 5] == pytest.approx(0.29)


def test_convert_empty_and_bad_shapes() -> None:
    assert wholebody_to_pose2d(np.zeros((0, 133, 2)), np.zeros((0, 133)), (10, 10)).num_people == 0
    with pytest.raises(InputError):
        wholebody_to_pose2d(np.zeros((1, 17, 2)), np.zeros((1, 17)), (10, 10))


class _SimccRunner:
    """Returns peaks at crop (144, 50) for every keypoint of every crop; counts batches."""

    def __init__(self, bad: bool = False) -> None:
        self.batches: list[int] = []
        self.bad = bad

    def __call__(self, x: np.ndarray):
        n = x.shape[0]
        self.batches.append(n)
        sx = np.zeros((n, 133, 576 if not self.bad else 500), np.float32)
        sy = np.zeros((n, 133, 768), np.float32)
        sx[:, :, 288], sy[:, :, 100] = 0.8, 0.8
        return [sx, sy]


@pytest.mark.parametrize(("dynamic", "expected"), [(True, [3]), (False, [1, 1, 1])])
def test_estimator_batching_and_backprojection(dynamic: bool, expected: list[int]) -> None:
    runner = _SimccRunner()
    est = DWPoseEstimator(runner, batch_dynamic=dynamic)
    frames = np.zeros((2, 600, 800, 3), np.uint8)
    boxes = [np.array([[100, 50, 300, 450], [400, 100, 500, 300]]), np.array([[0, 100, 800, 300]])]
    out = est.estimate_many(frames, boxes)
    assert runner.batches == expected
    np.testing.assert_allclose(out[0][0][0], np.tile([200.0, 65.1041667], (133, 1)), atol=1e-5)
    # wide box: centre (400, 200), scale (1000, 1333.333): x = 400, y = 50/384·1333.3 + 200 − 666.7
    np.testing.assert_allclose(out[1][0][0, 0], [400.0, 50 / 384 * 4000 / 3 - 4000 / 6 + 200])
    assert out[0][1].shape == (2, 133) and np.all(out[0][1] == pytest.approx(0.8))


def test_estimator_wrong_output_shape() -> None:
    est = DWPoseEstimator(_SimccRunner(bad=True))
    with pytest.raises(ModelFormatError, match="576"):
        est.estimate(np.zeros((100, 100, 3), np.uint8), np.array([[10, 10, 50, 90]]))


def test_estimator_no_boxes_runs_nothing() -> None:
    runner = _SimccRunner()
    k, s = DWPoseEstimator(runner).estimate(np.zeros((50, 50, 3), np.uint8), np.zeros((0, 4)))
    assert k.shape == (0, 133, 2) and s.shape == (0, 133) and runner.batches == []
