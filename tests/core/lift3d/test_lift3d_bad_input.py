"""Bad input to lift_to_3d / lift_full_frames: clear InputErrors, inputs untouched, model reusable."""

from __future__ import annotations

import numpy as np
import pytest
from standin_nlf import build_nlf_standin

from scail_pose_core.errors import InputError
from scail_pose_core.lift3d import lift_full_frames, lift_to_3d, load_nlf
from scail_pose_core.types import Detections


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = build_nlf_standin(tmp_path_factory.mktemp("nlf") / "nlf_standin.torchscript")
    return load_nlf(path, device="cpu")


def _det():
    return Detections(np.array([[10, 10, 60, 90]], np.float32), np.ones(1, np.float32))


def test_zero_frames(model):
    with pytest.raises(InputError, match="zero frames"):
        lift_to_3d(np.zeros((0, 64, 96, 3), np.uint8), [], model)
    with pytest.raises(InputError, match="zero frames"):
        lift_to_3d(iter([]), [], model)
    with pytest.raises(InputError, match="zero frames"):
        lift_full_frames(np.zeros((0, 64, 96, 3), np.uint8), model)


def test_frames_of_different_sizes(model):
    a = np.full((2, 64, 96, 3), 5, np.uint8)
    b = np.full((1, 96, 64, 3), 5, np.uint8)
    a0, b0 = a.copy(), b.copy()
    with pytest.raises(InputError, match=r"frame 2 has size 96x64 .* frame 0 has 64x96"):
        lift_to_3d([a, b], [_det()] * 3, model)
    with pytest.raises(InputError, match="frame 2 has size"):
        lift_full_frames([a, b], model)
    # nothing lost: inputs untouched, the model still works
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    assert lift_to_3d(a, [_det()] * 2, model)[1].present.tolist() == [True]


def test_frame_and_detection_counts_must_match(model):
    frames = np.full((3, 64, 96, 3), 5, np.uint8)
    with pytest.raises(InputError, match="3 frames but 2 Detections"):
        lift_to_3d(frames, [_det()] * 2, model)
    with pytest.raises(InputError, match="more frames than Detections"):
        lift_to_3d(iter([frames]), [_det()] * 2, model)
    with pytest.raises(InputError, match="3 frames but 4 Detections"):
        lift_to_3d(iter([frames]), [_det()] * 4, model)


def test_wrong_dtype_and_shape(model):
    with pytest.raises(InputError, match="uint8"):
        lift_to_3d(np.zeros((1, 64, 96, 3), np.float32), [_det()], model)
    with pytest.raises(InputError, match=r"\(T, H, W, 3\)"):
        lift_to_3d(np.zeros((1, 64, 96), np.uint8), [_det()], model)
    with pytest.raises(InputError, match="expected Detections"):
        lift_to_3d(np.zeros((1, 64, 96, 3), np.uint8), [np.zeros((1, 4))], model)
