"""YOLOX pre/post-processing against reference_spec.md §2 and §12.3 (no weights, fake runners)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from reference_yolox import reference_letterbox, reference_postprocess

from scail_pose_core.detection.nms import class_aware_nms, nms
from scail_pose_core.detection.yolox import (
    YoloxDetector,
    YoloxThresholds,
    anchor_grid,
    decode_boxes,
    decode_person_boxes,
    letterbox,
)
from scail_pose_core.errors import InputError, ModelFormatError

R_896 = 0.7142857142857143


def _reference_letterbox(frame_rgb: np.ndarray) -> np.ndarray:
    """The reference's steps literally: BGR of the full frame, then the reference letterbox."""
    return reference_letterbox(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR))[0]


def test_letterbox_landscape_896x512(rng) -> None:
    frame = rng.integers(0, 256, (512, 896, 3), dtype=np.uint8)
    x, r = letterbox(frame)
    assert r == pytest.approx(R_896, abs=1e-15)
    assert x.shape == (3, 640, 640) and x.dtype == np.float32
    assert np.all(x[:, 365:, :] == 114) and not np.all(x[:, 364, :] == 114)
    np.testing.assert_array_equal(x, _reference_letterbox(frame))
    # BGR order: channel 0 of the input is the frame's blue channel (resized)
    blue = cv2.resize(frame[..., 2], (640, 365), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(x[0, :365], blue)


def test_letterbox_portrait_512x896(rng) -> None:
    frame = rng.integers(0, 256, (896, 512, 3), dtype=np.uint8)
    x, r = letterbox(frame)
    assert r == pytest.approx(R_896, abs=1e-15)
    assert np.all(x[:, :, 365:] == 114) and not np.all(x[:, :, 364] == 114)
    np.testing.assert_array_equal(x, _reference_letterbox(frame))


@pytest.mark.parametrize("hw", [(1, 1), (3, 700), (640, 640), (1080, 1920)])
def test_letterbox_odd_sizes(hw, rng) -> None:
    frame = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
    x, r = letterbox(frame)
    assert x.shape == (3, 640, 640)
    if min(int(hw[0] * r), int(hw[1] * r)) >= 1:
        np.testing.assert_array_equal(x, _reference_letterbox(frame))
    else:  # the reference would ask OpenCV for a 0-pixel resize; we keep at least 1 px
        assert np.all(x[:, 1:, :] == 114)


def _raw_with(rows: dict[int, list[float]], k: int = 85) -> np.ndarray:
    raw = np.zeros((8400, k), np.float32)
    for i, v in rows.items():
        raw[i, : len(v)] = v
    return raw


def test_anchor_layout() -> None:
    grid, stride = anchor_grid((640, 640))
    assert grid.shape == (8400, 2)
    assert stride[0, 0] == 8 and stride[6399, 0] == 8
    assert stride[6400, 0] == 16 and tuple(grid[6400]) == (0, 0)
    assert stride[8000, 0] == 32 and tuple(grid[8000]) == (0, 0)
    assert tuple(grid[80 * 3 + 5]) == (5, 3) and tuple(grid[8399]) == (19, 19)


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, (-4, -12, 12, 20)),  # stride 8, (0, 0): cx=cy=4, w=16, h=32
        (6400, (-8, -24, 24, 40)),  # stride 16, (0, 0)
        (8000, (-16, -48, 48, 80)),  # stride 32, (0, 0)
    ],
)
def test_decode_anchor_vectors(index: int, expected) -> None:
    raw = _raw_with({index: [0.5, 0.5, math.log(2), math.log(4)]})
    box = decode_boxes(raw, np.array([index]), (640, 640), R_896)[0]
    np.testing.assert_allclose(box, np.array(expected) / R_896, rtol=1e-6)


def test_decode_grid_index_80gy_plus_gx() -> None:
    raw = _raw_with({80 * 3 + 5: [0.0, 0.0, 0.0, 0.0]})
    box = decode_boxes(raw, np.array([245]), (640, 640), 1.0)[0]
    np.testing.assert_allclose(box, [36, 20, 44, 28])  # cx = 40, cy = 24, w = h = 8


def test_nms_legacy_plus_one_iou() -> None:
    a, b = [0, 0, 9, 9], [5, 0, 14, 9]  # +1 IoU = 50/150 = 0.333; plain IoU = 36/126 = 0.286
    keep = nms(np.array([a, b], np.float32), np.array([0.9, 0.8]), 0.3)
    assert keep.tolist() == [0]  # suppressed only under the +1 convention
    keep = nms(np.array([a, b], np.float32), np.array([0.8, 0.9]), 0.34)
    assert keep.tolist() == [1, 0]  # descending score order


def test_nms_keeps_iou_equal_to_threshold() -> None:
    boxes = np.array([[0, 0, 9, 9], [0, 0, 9, 4]], np.float32)  # +1 IoU exactly 0.5
    assert nms(boxes, np.array([0.9, 0.8]), 0.5).tolist() == [0, 1]
    assert nms(boxes, np.array([0.9, 0.8]), 0.49).tolist() == [0]


def test_class_aware_nms_classes_do_not_interact() -> None:
    boxes = np.array([[0, 0, 100, 100], [1, 1, 100, 100], [0, 0, 100, 100]], np.float32)
    scores = np.zeros((3, 3), np.float32)
    scores[0, 0], scores[1, 0], scores[2, 2] = 0.5, 0.4, 0.99
    b, s, c = class_aware_nms(boxes, scores, 0.45, 0.1)
    assert c.tolist() == [0, 2] and s.tolist() == pytest.approx([0.5, 0.99])
    b0, _, _ = class_aware_nms(boxes, scores, 0.45, 0.1, classes=[0])
    np.testing.assert_array_equal(b0, b[:1])


def _planted(rows: list[tuple[int, float, int, tuple[float, float, float, float]]]) -> np.ndarray:
    """Rows (anchor, score, class, raw box) with objectness 0.8 and class prob score/0.8."""
    raw = np.zeros((8400, 85), np.float32)
    for a, score, cls, box in rows:
        raw[a, :4] = box
        raw[a, 4] = 0.8
        raw[a, 5 + cls] = score / 0.8
    return raw


def test_person_filter_thresholds_and_order() -> None:
    raw = _planted(
        [
            (8000 + 2 * 20 + 2, 0.35, 0, (0.5, 0.5, 1.0, 1.5)),  # person, kept
            (8000 + 2 * 20 + 10, 0.95, 0, (0.5, 0.5, 1.0, 1.5)),  # person, best
            (8000 + 10 * 20 + 2, 0.25, 0, (0.5, 0.5, 1.0, 1.5)),  # person below 0.3
            (8000 + 10 * 20 + 10, 0.99, 2, (0.5, 0.5, 1.0, 1.5)),  # a car
        ]
    )
    det = decode_person_boxes(raw, 1.0)
    assert det.scores.tolist() == pytest.approx([0.95, 0.35], abs=1e-6)
    cx = (det.boxes_xyxy[:, 0] + det.boxes_xyxy[:, 2]) / 2
    np.testing.assert_allclose(cx, [10.5 * 32, 2.5 * 32])
    det = decode_person_boxes(raw, 1.0, thresholds=YoloxThresholds(score_threshold=0.2))
    assert len(det) == 3
    det = decode_person_boxes(raw, 1.0, thresholds=YoloxThresholds(class_id=2))
    assert det.scores.tolist() == pytest.approx([0.99])


def test_person_decode_equals_full_reference_postprocess(rng) -> None:
    raw = np.zeros((8400, 85), np.float32)
    raw[:, :2] = rng.uniform(0, 1, (8400, 2))
    raw[:, 2:4] = rng.uniform(0.5, 3.5, (8400, 2))
    raw[:, 4] = rng.uniform(0, 1, 8400) ** 4  # most anchors weak, some strong
    raw[:, 5:8] = rng.uniform(0, 1, (8400, 3)) ** 3  # classes 0-2 compete; the rest are 0
    ref = reference_postprocess(raw, R_896)
    det = decode_person_boxes(raw, R_896)
    assert len(ref) >= 5, "the random case should keep several people"
    np.testing.assert_array_equal(det.boxes_xyxy, ref[:, :4].astype(np.float32))
    np.testing.assert_allclose(det.scores, ref[:, 4], rtol=1e-7)


def test_wrong_raw_shape_is_model_format_error() -> None:
    with pytest.raises(ModelFormatError, match="8400"):
        decode_person_boxes(np.zeros((100, 85), np.float32), 1.0)
    with pytest.raises(ModelFormatError):
        decode_person_boxes(np.zeros((8400, 4), np.float32), 1.0)


class _CountingRunner:
    def __init__(self, raw: np.ndarray) -> None:
        self.raw, self.batches = raw, []

    def __call__(self, x: np.ndarray):
        self.batches.append(x.shape[0])
        return [np.repeat(self.raw[None], x.shape[0], axis=0)]


@pytest.mark.parametrize(("dynamic", "expected"), [(False, [1] * 5), (True, [3, 2])])
def test_detector_batching(dynamic: bool, expected: list[int]) -> None:
    raw = _planted([(8000 + 5 * 20 + 5, 0.9, 0, (0.5, 0.5, math.log(2), math.log(4)))])
    runner = _CountingRunner(raw)
    det = YoloxDetector(runner, batch_dynamic=dynamic, max_batch=3)
    frames = np.zeros((5, 512, 896, 3), np.uint8)
    out = det.detect(frames)
    assert runner.batches == expected
    assert len(out) == 5 and all(len(d) == 1 for d in out)
    np.testing.assert_allclose(out[4].boxes_xyxy[0], np.array([144, 112, 208, 240]) / R_896)


def test_detector_rejects_bad_frames_and_bad_runner_output() -> None:
    det = YoloxDetector(_CountingRunner(np.zeros((8400, 85), np.float32)))
    with pytest.raises(InputError):
        det.detect(np.zeros((2, 8, 8), np.uint8))
    bad = YoloxDetector(lambda x: [np.zeros((x.shape[0], 100, 85), np.float32)])
    with pytest.raises(ModelFormatError):
        bad.detect(np.zeros((1, 8, 8, 3), np.uint8))


def test_reused_buffer_matches_fresh_preprocessing(rng) -> None:
    det = YoloxDetector(_CountingRunner(np.zeros((8400, 85), np.float32)), batch_dynamic=True)
    a = rng.integers(0, 256, (2, 512, 896, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (2, 512, 896, 3), dtype=np.uint8)
    c = rng.integers(0, 256, (2, 896, 512, 3), dtype=np.uint8)  # other size: padding rewritten
    for frames in (a, b, c, a):
        got, _ = det.preprocess(frames, reuse_buffer=True)
        want, _ = det.preprocess(frames)
        np.testing.assert_array_equal(got, want)
