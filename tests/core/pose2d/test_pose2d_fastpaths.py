"""The speed paths of the 2D stage give exactly the plain paths' bits: reused scratch buffers,
source-rectangle-only RGBA conversion for the crops, the pairwise-matrix NMS."""

from __future__ import annotations

import importlib

import cv2
import numpy as np
import pytest
from reference_yolox import reference_nms

from scail_pose_core.detection.nms import nms
from scail_pose_core.detection.yolox import letterbox
from scail_pose_core.pose2d.crop import (
    NORM_LUTS,
    crop_and_normalize,
    source_rects,
    warp_matrix,
)


def _reference_crops(frame_rgb: np.ndarray, centers, scales) -> np.ndarray:
    """Full-frame BGR, per-box warp, float64 normalisation, cast (reference_spec.md §3.2)."""
    bgr = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
    mean = np.array([123.675, 116.28, 103.53])
    std = np.array([58.395, 57.12, 57.375])
    out = []
    for c, s in zip(centers, scales, strict=True):
        crop = cv2.warpAffine(bgr, warp_matrix(c, s, (288, 384)), (288, 384), flags=1)
        out.append(((crop - mean) / std).transpose(2, 0, 1).astype(np.float32))
    return np.stack(out) if out else np.zeros((0, 3, 384, 288), np.float32)


BOX_SETS = [
    [[100, 50, 300, 450]],  # inside
    [[-200, -100, 60, 90]],  # partly outside, top-left
    [[850, 480, 1200, 900]],  # partly outside, bottom-right
    [[2000, 2000, 2100, 2100]],  # entirely outside: all border
    [[400, 200, 400.5, 200.25]],  # tiny
    [[300, 300, 300, 300]],  # zero size (singular warp)
    [[-5000, -5000, 5000, 5000]],  # far larger than the frame
    [[10, 10, 60, 120], [830, 380, 890, 500]],  # two small people far apart: two rectangles
    [[100, 50, 300, 450], [250, 60, 420, 470], [600.5, 20.25, 880, 500]],  # union
]


@pytest.mark.parametrize("boxes", BOX_SETS)
def test_crops_with_partial_rgba_equal_reference(boxes, rng) -> None:
    scratch: dict = {}
    for hw in ((512, 896), (896, 512), (512, 896)):
        frame = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
        # Poison the reused RGBA buffer: pixels the warps must not read hold garbage.
        crop_and_normalize(frame, np.zeros((1, 4), np.float32), scratch=scratch)
        scratch[("rgba", *hw)][:] = rng.integers(0, 256, (*hw, 4), dtype=np.uint8)
        got, centers, scales = crop_and_normalize(
            frame, np.array(boxes, np.float32), scratch=scratch
        )
        np.testing.assert_array_equal(got, _reference_crops(frame, centers, scales))
        fresh, _, _ = crop_and_normalize(frame, np.array(boxes, np.float32))
        np.testing.assert_array_equal(got, fresh)


def test_source_rects_cover_what_the_warp_reads(rng) -> None:
    """A frame that is zero outside the rectangles gives the same crops as the full frame."""
    frame = rng.integers(1, 256, (300, 400, 4), dtype=np.uint8)
    for _ in range(50):
        c = rng.uniform(-100, 500, 2).astype(np.float32)
        s = np.array([rng.uniform(1, 400)] * 2, np.float32)
        s[1] = s[0] / 0.75
        m = warp_matrix(c, s, (288, 384))
        masked = np.zeros_like(frame)
        for x0, y0, x1, y1 in source_rects([m], (288, 384), (300, 400)):
            masked[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
        a = cv2.warpAffine(frame, m, (288, 384), flags=cv2.INTER_LINEAR)
        b = cv2.warpAffine(masked, m, (288, 384), flags=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(a, b)


def test_source_rects_choice() -> None:
    m_in = warp_matrix(np.array([100, 100], np.float32), np.array([60, 80], np.float32), (288, 384))
    ((x0, y0, x1, y1),) = source_rects([m_in], (288, 384), (512, 896))
    assert 0 < x0 < 70 and 130 < x1 < 150 and 0 < y0 < 60 and 140 < y1 < 160
    m_far = warp_matrix(
        np.array([800, 400], np.float32), np.array([60, 80], np.float32), (288, 384)
    )
    assert len(source_rects([m_in, m_far], (288, 384), (512, 896))) == 2  # apart: two
    assert len(source_rects([m_in, m_in], (288, 384), (512, 896))) == 1  # overlapping: union
    m_out = warp_matrix(
        np.array([5000, 5000], np.float32), np.array([60, 80], np.float32), (288, 384)
    )
    assert source_rects([m_out], (288, 384), (512, 896)) == []


def test_normalisation_lut_is_float64_maths_cast() -> None:
    v = np.arange(256, dtype=np.float64)
    for c, (m, s) in enumerate(
        zip((123.675, 116.28, 103.53), (58.395, 57.12, 57.375), strict=True)
    ):
        np.testing.assert_array_equal(NORM_LUTS[c, 0], ((v - m) / s).astype(np.float32))


def test_letterbox_with_scratch_equals_reference(rng) -> None:
    scratch: dict = {}
    for hw in ((512, 896), (896, 512), (37, 53), (512, 896), (1, 1)):
        frame = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
        img = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        r = min(640 / hw[0], 640 / hw[1])
        nw, nh = max(1, int(hw[1] * r)), max(1, int(hw[0] * r))
        pad = np.full((640, 640, 3), 114, np.uint8)
        pad[:nh, :nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR).reshape(nh, nw, 3)
        want = np.ascontiguousarray(pad.transpose(2, 0, 1), dtype=np.float32)
        got, _ = letterbox(frame, scratch=scratch)
        np.testing.assert_array_equal(got, want)
    assert any(k[0] == "letterbox" for k in scratch)


@pytest.mark.parametrize("matrix_max", [0, 256])
def test_nms_paths_equal_reference_loop(matrix_max, rng, monkeypatch) -> None:
    # the package re-exports the function under the module's name: fetch the module itself
    nms_module = importlib.import_module("scail_pose_core.detection.nms")
    monkeypatch.setattr(nms_module, "MATRIX_MAX", matrix_max)
    for trial in range(400):
        n = int(rng.integers(1, 120))
        c = rng.uniform(0, 100, (n, 2))
        wh = rng.uniform(0, 60, (n, 2))
        if trial % 3 == 0:  # integer boxes: exact ties and IoUs on the threshold
            c, wh = np.round(c), np.round(wh)
        boxes = np.concatenate([c - wh / 2, c + wh / 2], 1)
        boxes = boxes.astype(np.float64 if trial % 5 == 0 else np.float32)
        scores = rng.uniform(0, 1, n).astype(np.float32)
        if trial % 4 == 0:
            scores = np.round(scores * 5).astype(np.float32) / 5  # tied scores
        thr = (0.45, 0.0, 0.3, 1.0)[trial % 4]
        np.testing.assert_array_equal(nms(boxes, scores, thr), reference_nms(boxes, scores, thr))
    nan_boxes = np.array([[0, 0, np.nan, 10], [0, 0, 10, 10], [1, 1, 10, 10]], np.float32)
    s = np.array([0.9, 0.8, 0.7], np.float32)
    np.testing.assert_array_equal(nms(nan_boxes, s, 0.45), reference_nms(nan_boxes, s, 0.45))
