"""detect_poses end to end on onnxruntime with planted stand-in models (environment_notes.md §6).

The YOLOX stand-in plants boxes; the DWPose stand-in finds coloured markers in each crop, so the
keypoints are only right when letterbox ratio, crop, BGR order, normalisation, SimCC decoding and
back-projection are all right.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from standin_onnx import (
    ABSENT_KEYPOINTS,
    WEAK_KEYPOINTS,
    build_constant_model,
    build_dwpose_standin,
    build_yolox_standin,
    draw_person_markers,
    expected_keypoints,
)

from scail_pose_core.errors import InputError, MissingWeightsError, ModelFormatError
from scail_pose_core.onnx_session import find_onnxruntime_clash, load_onnx_model
from scail_pose_core.pose2d import DetectOptions, DWPoseEstimator, YoloxDetector, detect_poses
from scail_pose_core.pose2d.convert import wholebody_to_op134
from scail_pose_core.skeletons import openpose as op

#: Planted boxes in 640-letterbox pixels and their scores. Landscape frames letterbox into
#: the top 640×360 at most, portrait ones into the left 360×640; the people stand far enough
#: apart that no crop holds another person's markers.
BOXES_640 = [[30, 40, 150, 330], [250, 30, 380, 300], [440, 40, 630, 250]]
SCORES = [0.8, 0.95, 0.6]
ORDER = [1, 0, 2]  # descending score
PORTRAIT_BOXES_640 = [[100, 20, 300, 280], [60, 340, 330, 630]]
PORTRAIT_SCORES = [0.8, 0.95]
PORTRAIT_ORDER = [1, 0]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("standins")
    return {
        "yolox": build_yolox_standin(d / "yolox_l.onnx", BOXES_640, SCORES),
        "yolox_dyn": build_yolox_standin(d / "yolox_dyn.onnx", BOXES_640, SCORES, None, True),
        "yolox_portrait": build_yolox_standin(
            d / "yolox_p.onnx", PORTRAIT_BOXES_640, PORTRAIT_SCORES, None, True
        ),
        "dwpose": build_dwpose_standin(d / "dw-ll_ucoco_384.onnx"),
        "dwpose_static": build_dwpose_standin(d / "dw_static.onnx", dynamic_batch=False),
    }


@pytest.fixture(scope="module")
def detector(models) -> YoloxDetector:
    return YoloxDetector.from_path(models["yolox_dyn"])


@pytest.fixture(scope="module")
def estimator(models) -> DWPoseEstimator:
    return DWPoseEstimator.from_path(models["dwpose"])


def _scene(hw: tuple[int, int], boxes_640=BOXES_640):
    """A black frame with each planted person's markers; returns frame, image boxes, markers."""
    r = min(640 / hw[0], 640 / hw[1])
    boxes = np.asarray(boxes_640, np.float64) / r
    frame = np.zeros((*hw, 3), np.uint8)
    markers = [draw_person_markers(frame, b) for b in boxes]
    return frame, boxes, markers


def test_models_read_from_session(models, detector, estimator) -> None:
    assert detector.input_size_hw == (640, 640) and detector.batch_dynamic
    assert estimator.input_size_hw == (384, 288) and estimator.batch_dynamic
    assert not YoloxDetector.from_path(models["yolox"]).batch_dynamic
    assert not DWPoseEstimator.from_path(models["dwpose_static"]).batch_dynamic
    assert models["yolox"].stat().st_size < 20_000 and models["dwpose"].stat().st_size < 50_000


@pytest.mark.parametrize(
    "hw", [(512, 896), (896, 512), (480, 640), (600, 1000), (1000, 750), (360, 640)]
)
def test_planted_boxes_and_keypoints_recovered(hw, models, detector, estimator) -> None:
    if hw[0] >= hw[1]:
        boxes_640, scores, order = PORTRAIT_BOXES_640, PORTRAIT_SCORES, PORTRAIT_ORDER
        detector = YoloxDetector.from_path(models["yolox_portrait"])
    else:
        boxes_640, scores, order = BOXES_640, SCORES, ORDER
    frame, boxes, markers = _scene(hw, boxes_640)
    frames = np.stack([frame, frame[::-1].copy()])  # the flip has no markers where expected
    res = detect_poses(frames, detector, estimator)
    assert len(res) == 2
    det, pose = res[0].detections, res[0].pose2d
    assert res[0].pose3d is None
    np.testing.assert_allclose(det.boxes_xyxy, boxes[order], atol=1e-3)  # float32 exp/log only
    np.testing.assert_allclose(det.scores, np.array(scores)[order], atol=1e-6)
    assert pose.num_people == len(order)
    h, w = hw
    for i, src in enumerate(order):
        kp_exp, present = expected_keypoints(markers[src])
        kp, sc = _pose_to_wb133_px(pose, i, (h, w))
        hidden = kp[:, 0] == -1e9  # face/hand points set to −1
        hidden_expected = np.zeros(133, bool)
        hidden_expected[[k for k in (*ABSENT_KEYPOINTS, *WEAK_KEYPOINTS) if k >= 23]] = True
        np.testing.assert_array_equal(hidden, hidden_expected)
        check = present & ~hidden
        assert check.sum() >= 127
        err = np.abs(kp[check] - kp_exp[check]).max()
        assert err <= 0.5, f"person {i}: max keypoint error {err:.3f} px"
        assert np.all(sc[list(ABSENT_KEYPOINTS)] == 0)
        assert np.allclose(sc[list(WEAK_KEYPOINTS)], 0.2, atol=0.01)
    # face 50 − 23 = 27 is absent → −1; a weak face point (60 → 37) too; body weak point kept
    assert np.all(pose.face_norm[:, 27] == op.INVISIBLE)
    assert np.all(pose.face_norm[:, 37] == op.INVISIBLE)
    assert np.all(pose.lhand_norm[:, 100 - 91] == op.INVISIBLE)
    assert np.all(pose.body_subset[:, 16] == -1)  # R ear = COCO 4 (weak)
    # the flipped frame: same planted boxes, but the crops hold other markers or none
    assert len(res[1].detections) == len(order)
    assert not np.allclose(res[1].pose2d.body_norm, pose.body_norm, atol=1e-3)


def _pose_to_wb133_px(pose, i: int, size_hw) -> tuple[np.ndarray, np.ndarray]:
    """Undo the 134 layout for person i (pixels, scores) to compare with COCO-WholeBody order."""
    h, w = size_hw
    xy = np.concatenate(
        [pose.body_norm[i], pose.face_norm[i], pose.lhand_norm[i], pose.rhand_norm[i]]
    )
    sc = np.concatenate(
        [pose.body_scores[i], pose.face_scores[i], pose.lhand_scores[i], pose.rhand_scores[i]]
    )
    kp = np.full((133, 2), np.nan)
    s = np.zeros(133, np.float32)
    for j, src in enumerate(op.OP134_FROM_WB133):
        if src >= 0:
            invisible = np.all(xy[j] == op.INVISIBLE) and j >= 24
            kp[src] = np.nan if invisible else xy[j] * [w, h]
            s[src] = sc[j]
    return np.where(np.isnan(kp), -1e9, kp), s


def test_neck_from_markers(detector, estimator) -> None:
    frame, _, markers = _scene((480, 640))
    pose = detect_poses(frame[None], detector, estimator)[0].pose2d
    m = markers[ORDER[0]]
    # COCO 5 (L shoulder) has code 6, COCO 6 (R shoulder) code 7
    neck = (np.array(m[6]) + np.array(m[7])) / 2 / [640, 480]
    np.testing.assert_allclose(pose.body_norm[0, 1], neck, atol=0.5 / 480)
    assert pose.body_subset[0, 1] == 1


def test_static_batch_models_give_same_result(models, detector, estimator) -> None:
    frame, _, _ = _scene((512, 896))
    frames = np.stack([frame] * 3)
    a = detect_poses(frames, detector, estimator)
    det_s = YoloxDetector.from_path(models["yolox"])
    est_s = DWPoseEstimator.from_path(models["dwpose_static"])
    b = detect_poses(frames, det_s, est_s)
    for fa, fb in zip(a, b, strict=True):
        np.testing.assert_array_equal(fa.detections.boxes_xyxy, fb.detections.boxes_xyxy)
        np.testing.assert_allclose(fa.pose2d.body_norm, fb.pose2d.body_norm, atol=1e-9)


def test_chunked_iterable_equals_array_and_reports_progress(detector, estimator) -> None:
    frame, _, _ = _scene((480, 640))
    frames = np.stack([frame, np.zeros_like(frame), frame, frame, frame])
    ref = detect_poses(frames, detector, estimator, DetectOptions(chunk_size=16))
    calls: list[tuple[int, int]] = []
    got = detect_poses(
        (frames[i : i + 2] for i in range(0, 5, 2)),  # a generator of chunks
        detector,
        estimator,
        DetectOptions(chunk_size=1),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert len(got) == 5
    for a, b in zip(ref, got, strict=True):
        np.testing.assert_array_equal(a.pose2d.body_norm, b.pose2d.body_norm)
    assert calls[-1] == (5, 0) and len(calls) == 6  # start + one step per 1-frame chunk


def test_cancel_stops_between_chunks(detector, estimator) -> None:
    class Stop(Exception):
        pass

    seen = []

    def cancel() -> None:
        seen.append(1)
        if len(seen) > 2:
            raise Stop

    with pytest.raises(Stop):
        detect_poses(np.zeros((6, 64, 64, 3), np.uint8), detector, estimator,
                     DetectOptions(chunk_size=1), check_cancel=cancel)  # fmt: skip


def test_people_selection(detector, estimator) -> None:
    frame, boxes, _ = _scene((480, 640))
    first = detect_poses(frame[None], detector, estimator, DetectOptions(people="first"))[0]
    assert len(first.detections) == 1 and first.pose2d.num_people == 1
    np.testing.assert_allclose(first.detections.boxes_xyxy[0], boxes[1], atol=1e-3)
    largest = detect_poses(
        frame[None], detector, estimator, DetectOptions(people="largest", max_people=2)
    )[0]
    # areas: box 2 (190·210) > box 1 (130·270) > box 0 (120·290); kept in score order
    np.testing.assert_allclose(largest.detections.boxes_xyxy, boxes[[1, 2]], atol=1e-3)
    assert largest.detections.scores.tolist() == pytest.approx([0.95, 0.6])
    capped = detect_poses(frame[None], detector, estimator, DetectOptions(max_people=2))[0]
    assert capped.detections.scores.tolist() == pytest.approx([0.95, 0.8])
    assert capped.pose2d.num_people == 2


def test_nobody_gives_empty_result_or_reference_fallback(tmp_path, estimator) -> None:
    empty_det = YoloxDetector.from_path(build_yolox_standin(tmp_path / "none.onnx", []))
    frame = np.zeros((100, 80, 3), np.uint8)
    draw_person_markers(frame, [10, 10, 70, 90])
    f = detect_poses(frame[None], empty_det, estimator)[0]
    assert len(f.detections) == 0 and f.pose2d.num_people == 0
    f = detect_poses(frame[None], empty_det, estimator, DetectOptions(fallback_full_image=True))[0]
    assert len(f.detections) == 0 and f.pose2d.num_people == 1
    # the full-image box (0, 0, 80, 100) still locates the markers
    assert f.pose2d.body_subset[0, 0] == 0


def test_empty_and_tiny_inputs(detector, estimator) -> None:
    assert detect_poses(np.zeros((0, 64, 64, 3), np.uint8), detector, estimator) == []
    assert detect_poses([], detector, estimator) == []
    res = detect_poses(np.zeros((1, 1, 1, 3), np.uint8), detector, estimator)
    assert len(res) == 1 and res[0].pose2d.num_people == len(res[0].detections)


def test_gray_and_rgba_inputs(detector, estimator, caplog) -> None:
    frame, _, _ = _scene((480, 640))
    ref = detect_poses(frame[None], detector, estimator)[0].pose2d
    gray = frame.max(axis=-1)
    with caplog.at_level(logging.INFO, logger="scail_pose"):
        for arr in (gray, gray[..., None], gray[None], gray[None, ..., None]):
            res = detect_poses(arr, detector, estimator)
            assert len(res) == 1 and res[0].pose2d.num_people == 3
    rgba = np.concatenate([frame, np.full((*frame.shape[:2], 1), 7, np.uint8)], axis=-1)
    res = detect_poses(rgba[None], detector, estimator)[0].pose2d
    np.testing.assert_array_equal(res.body_norm, ref.body_norm)


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros((1, 64, 64, 3), np.float32),
        np.zeros((1, 64, 64, 2), np.uint8),
        np.zeros((1, 0, 64, 3), np.uint8),
        np.zeros((2, 2, 64, 64, 3), np.uint8),
    ],
)
def test_bad_frames_are_input_errors(arr, detector, estimator) -> None:
    with pytest.raises(InputError):
        detect_poses(arr, detector, estimator)


def test_bad_options() -> None:
    with pytest.raises(InputError, match="people"):
        DetectOptions(people="biggest")
    with pytest.raises(InputError):
        DetectOptions(score_threshold=1.5)
    with pytest.raises(InputError):
        DetectOptions(max_people=0)


def test_not_onnx_and_missing_files(tmp_path) -> None:
    junk = tmp_path / "yolox_l.onnx"
    junk.write_text("<html>Git LFS pointer, not a model</html>")
    with pytest.raises(ModelFormatError, match="could not be opened as an ONNX model"):
        YoloxDetector.from_path(junk)
    with pytest.raises(ModelFormatError):
        DWPoseEstimator.from_path(junk)
    with pytest.raises(MissingWeightsError):
        YoloxDetector.from_path(tmp_path / "absent.onnx")


def test_wrong_output_shapes(tmp_path, models) -> None:
    bad_yolox = build_constant_model(
        tmp_path / "bad_y.onnx", "images", [1, 3, 640, 640], {"output": [1, 100, 85]}
    )
    with pytest.raises(ModelFormatError, match="8400"):
        YoloxDetector.from_path(bad_yolox)
    bad_pose = build_constant_model(
        tmp_path / "bad_p.onnx",
        "input",
        [1, 3, 384, 288],
        {"simcc_x": [1, 133, 500], "simcc_y": [1, 133, 768]},
    )
    with pytest.raises(ModelFormatError, match="576"):
        DWPoseEstimator.from_path(bad_pose)
    one_output = build_constant_model(
        tmp_path / "one.onnx", "input", [1, 3, 384, 288], {"simcc_x": [1, 133, 576]}
    )
    with pytest.raises(ModelFormatError):
        DWPoseEstimator.from_path(one_output)
    # a DWPose file given as the detector, and the other way round
    with pytest.raises(ModelFormatError):
        YoloxDetector.from_path(models["dwpose"])
    with pytest.raises(ModelFormatError):
        DWPoseEstimator.from_path(models["yolox"])


def test_outputs_found_by_name_not_order(tmp_path) -> None:
    swapped = build_constant_model(
        tmp_path / "swapped.onnx",
        "input",
        [1, 3, 384, 288],
        {"simcc_y": [1, 133, 768], "simcc_x": [1, 133, 576]},
    )
    assert DWPoseEstimator.from_path(swapped).output_index == (1, 0)


def test_provider_is_logged_and_cpu_fallback(models, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="scail_pose"):
        m = load_onnx_model(models["yolox"], role="YOLOX detector")
    assert m.providers[0] == "CPUExecutionProvider" or m.uses_cuda
    assert any(
        "YOLOX detector" in r.message and m.providers[0] in r.message for r in caplog.records
    )
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="scail_pose"):
        m = load_onnx_model(models["yolox"], ["CUDAExecutionProvider", "CPUExecutionProvider"])
    if not m.uses_cuda:
        assert any("CUDA provider was requested" in r.message for r in caplog.records)


def test_onnxruntime_clash_detection() -> None:
    import importlib.metadata as md

    def fake(installed: dict[str, str]):
        def version_of(name: str) -> str:
            if name in installed:
                return installed[name]
            raise md.PackageNotFoundError(name)

        return version_of

    assert find_onnxruntime_clash(fake({"onnxruntime-gpu": "1.31.1"})) is None
    msg = find_onnxruntime_clash(fake({"onnxruntime": "1.32.0", "onnxruntime-gpu": "1.31.1"}))
    assert msg and "onnxruntime==1.32.0" in msg and "pip uninstall -y onnxruntime" in msg


def test_wb133_helper_consistency() -> None:
    """The test's own 134→133 inverse is right (guards the keypoint test above)."""
    rng = np.random.default_rng(1)
    kp = rng.uniform(0, 100, (1, 133, 2))
    sc = np.full((1, 133), 0.9, np.float32)
    xy, _ = wholebody_to_op134(kp, sc)
    for j, src in enumerate(op.OP134_FROM_WB133):
        if src >= 0:
            np.testing.assert_array_equal(xy[0, j], kp[0, src])


def test_non_contiguous_frames(detector, estimator) -> None:
    frame, _, _ = _scene((480, 640))
    flipped = np.stack([frame, frame])[:, :, ::-1]  # a negative-stride view
    got = detect_poses(flipped, detector, estimator)[0].pose2d
    want = detect_poses(flipped.copy(), detector, estimator)[0].pose2d
    np.testing.assert_array_equal(got.body_norm, want.body_norm)
