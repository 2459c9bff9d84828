"""lift_to_3d with the NLF stand-in: §12.3 masking geometry, batching order, regrouping, missing.

The stand-in returns, per non-black region, a skeleton whose projection encodes the region's
half-open pixel box (tests/standin_nlf.py); ``decode_region`` reads it back.
"""

from __future__ import annotations

import numpy as np
import pytest
from standin_nlf import build_nlf_standin, decode_region, region_of_image

from scail_pose_core.errors import Cancelled, InputError
from scail_pose_core.lift3d import (
    LiftOptions,
    expanded_box,
    lift_full_frames,
    lift_images,
    lift_to_3d,
    load_nlf,
)
from scail_pose_core.types import Detections

H, W = 512, 896


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = build_nlf_standin(tmp_path_factory.mktemp("nlf") / "nlf_standin.torchscript")
    return load_nlf(path, device="cpu")


class Spy:
    """Wraps the model; records each call's batch size and the non-black region of each image."""

    def __init__(self, model) -> None:
        self.model = model
        self.device = model.device
        self.calls: list[list[tuple[int, int, int, int] | None]] = []
        self.dtypes: list[str] = []

    def detect_smpl_batched(self, images, **kwargs):
        self.dtypes.append(str(images.dtype))
        nhwc = images.permute(0, 2, 3, 1).numpy()
        self.calls.append([region_of_image(im) for im in nhwc])
        return self.model.detect_smpl_batched(images, **kwargs)


def _dets(boxes_norm) -> Detections:
    b = np.array([[x1 * W, y1 * H, x2 * W, y2 * H] for x1, y1, x2, y2 in boxes_norm], np.float32)
    return Detections(b.reshape(-1, 4), np.linspace(0.9, 0.5, len(b)).astype(np.float32))


def test_expanded_box_reference_vectors():
    # reference_spec.md §12.3 (W×H = 896×512)
    assert expanded_box((0.3, 0.2, 0.6, 0.9), (H, W)) == (246, 76, 560, 487)
    assert expanded_box((0.25, 0.1, 0.5, 0.75), (H, W)) == (201, 25, 471, 410)
    # clamps at the image border
    assert expanded_box((0.0, 0.0, 1.0, 1.0), (H, W)) == (0, 0, W, H)


def test_masking_geometry_through_the_model(model):
    frames = np.full((1, H, W, 3), 77, np.uint8)  # non-black everywhere
    dets = [_dets([(0.3, 0.2, 0.6, 0.9), (0.25, 0.1, 0.5, 0.75)])]
    spy = Spy(model)
    out = lift_to_3d(frames, dets, spy)
    # what the model saw: black outside the §12.3 slices, uint8 all the way
    assert spy.calls == [[(246, 76, 560, 487), (201, 25, 471, 410)]]
    assert spy.dtypes == ["torch.uint8"]
    # what came back: the stand-in's planted skeletons, decoded per box, in box order
    assert out[0].present.tolist() == [True, True]
    assert decode_region(out[0].joints_mm[0], (H, W)) == (246, 76, 560, 487)
    assert decode_region(out[0].joints_mm[1], (H, W)) == (201, 25, 471, 410)
    # millimetres: a 1.7 m person filling 411 px at f = 860.6 → Z = f·1700/411
    assert out[0].joints_mm[0, 0, 2] == pytest.approx(860.599993 * 1700 / 411, rel=1e-5)


def test_masked_image_content_is_the_frame_inside_the_box(model, rng):
    frames = rng.integers(1, 256, (1, H, W, 3), dtype=np.uint8)
    seen = {}

    class Capture(Spy):
        def detect_smpl_batched(self, images, **kwargs):
            seen["img"] = images.permute(0, 2, 3, 1).numpy().copy()
            return self.model.detect_smpl_batched(images, **kwargs)

    lift_to_3d(frames, [_dets([(0.3, 0.2, 0.6, 0.9)])], Capture(model))
    img = seen["img"][0]
    np.testing.assert_array_equal(img[76:487, 246:560], frames[0, 76:487, 246:560])
    img[76:487, 246:560] = 0
    assert not img.any()


def _scene(num_frames: int, rng) -> tuple[np.ndarray, list[Detections]]:
    """Frames with a varying number of boxes (0..3); every box region is non-black."""
    frames = np.full((num_frames, H, W, 3), 50, np.uint8)
    dets = []
    for _ in range(num_frames):
        k = int(rng.integers(0, 4))
        boxes = []
        for _ in range(k):
            x1, y1 = rng.uniform(0.0, 0.6), rng.uniform(0.0, 0.5)
            boxes.append((x1, y1, x1 + rng.uniform(0.1, 0.35), y1 + rng.uniform(0.2, 0.45)))
        dets.append(_dets(boxes) if boxes else Detections.empty())
    return frames, dets


def test_batching_is_frame_major_box_minor_and_regrouped(model, rng):
    frames, dets = _scene(9, rng)
    spy = Spy(model)
    out = lift_to_3d(frames, dets, spy, LiftOptions(batch_size=4))
    expected = [
        expanded_box(tuple(np.asarray(b, np.float64) / [W, H, W, H]), (H, W))
        for d in dets
        for b in d.boxes_xyxy
    ]
    n = len(expected)
    # batches of 4, last one partial; order = frame-major, box-minor
    assert [len(c) for c in spy.calls] == [4] * (n // 4) + ([n % 4] if n % 4 else [])
    assert [r for call in spy.calls for r in call] == expected
    # regrouped: one Pose3D per frame, one slot per box, decoding that box's region
    assert len(out) == len(frames)
    it = iter(expected)
    for d, pose in zip(dets, out, strict=True):
        assert pose.num_people == len(d)
        for slot in range(len(d)):
            assert decode_region(pose.joints_mm[slot], (H, W)) == next(it)
    # the batch size does not change the result
    again = lift_to_3d(frames, dets, model, LiftOptions(batch_size=64))
    for a, b in zip(out, again, strict=True):
        np.testing.assert_array_equal(a.joints_mm, b.joints_mm)


def test_missing_detection_and_empty_frames(model):
    frames = np.zeros((3, H, W, 3), np.uint8)
    frames[:, 100:300, 100:250] = 200  # a person-like blob on the left only
    dets = [
        Detections(np.array([[110, 110, 240, 290], [600, 100, 800, 400]], np.float32),
                   np.array([0.9, 0.8], np.float32)),
        Detections.empty(),
        Detections(np.array([[600, 100, 800, 400]], np.float32), np.array([0.7], np.float32)),
    ]  # fmt: skip
    out = lift_to_3d(frames, dets, model, LiftOptions(batch_size=2))
    assert out[0].present.tolist() == [True, False]
    assert decode_region(out[0].joints_mm[0], (H, W)) == (100, 100, 250, 300)
    assert not out[0].joints_mm[1].any()  # the reference's zeros
    assert out[1].num_people == 0
    assert out[2].present.tolist() == [False] and not out[2].joints_mm.any()


def test_detection_zero_is_the_largest_region_in_the_masked_image(model):
    frames = np.zeros((1, H, W, 3), np.uint8)
    frames[0, 100:400, 300:420] = 90  # big
    frames[0, 150:200, 440:460] = 90  # small, inside the expanded box too
    dets = [Detections(np.array([[300, 100, 470, 400]], np.float32), np.ones(1, np.float32))]
    out = lift_to_3d(frames, dets, model)
    assert decode_region(out[0].joints_mm[0], (H, W)) == (300, 100, 420, 400)


def test_streamed_chunks_equal_whole_array_and_progress(model, rng):
    frames, dets = _scene(7, rng)
    whole = lift_to_3d(frames, dets, model, LiftOptions(batch_size=3))
    seen = []
    chunks = (frames[i : i + 2] for i in range(0, 7, 2))
    streamed = lift_to_3d(chunks, dets, model, LiftOptions(batch_size=3),
                          progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    for a, b in zip(whole, streamed, strict=True):
        np.testing.assert_array_equal(a.joints_mm, b.joints_mm)
        np.testing.assert_array_equal(a.present, b.present)
    assert seen[0] == (0, 7) and seen[-1] == (7, 7)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_cancel_stops_between_batches(model, rng):
    frames, dets = _scene(6, rng)
    dets = [_dets([(0.1, 0.1, 0.3, 0.5)])] * 6
    calls = []

    def cancel():
        calls.append(1)
        if len(calls) >= 2:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        lift_to_3d(frames, dets, model, LiftOptions(batch_size=2), check_cancel=cancel)


def test_full_frames_returns_every_detection(model):
    frames = np.zeros((2, H, W, 3), np.uint8)
    frames[0, 50:450, 100:300] = 30  # two people in frame 0
    frames[0, 100:400, 500:600] = 30
    out = lift_full_frames(frames, model, LiftOptions(batch_size=1))
    assert out[0].num_people == 2 and out[0].present.all()
    assert decode_region(out[0].joints_mm[0], (H, W)) == (100, 50, 300, 450)  # larger first
    assert decode_region(out[0].joints_mm[1], (H, W)) == (500, 100, 600, 400)
    assert out[1].num_people == 0  # a black frame: nobody


def test_lift_images_detection_zero_or_none(model):
    imgs = np.zeros((3, H, W, 3), np.uint8)
    imgs[0, 10:20, 30:40] = 1
    imgs[2, 200:300, 400:500] = 255
    out = lift_images(imgs, model, LiftOptions(batch_size=2))
    assert decode_region(out[0], (H, W)) == (30, 10, 40, 20)
    assert out[1] is None
    assert decode_region(out[2], (H, W)) == (400, 200, 500, 300)


def test_options_only_pass_non_default_kwargs():
    assert LiftOptions().model_kwargs() == {}
    assert LiftOptions(default_fov_degrees=60).model_kwargs() == {"default_fov_degrees": 60.0}
    with pytest.raises(InputError, match="batch_size"):
        LiftOptions(batch_size=0)
