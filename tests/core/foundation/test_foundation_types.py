"""The data model validates shapes with messages naming field, shape seen and shape expected."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from scail_pose_core import (
    Camera,
    Detections,
    InputError,
    Pose2D,
    Pose3D,
    PoseFrame,
    PoseSequence,
)


def _pose2d(p: int = 2) -> dict[str, np.ndarray]:
    return {
        "body_norm": np.zeros((p, 24, 2)), "body_scores": np.zeros((p, 24)),
        "face_norm": np.zeros((p, 68, 2)), "face_scores": np.zeros((p, 68)),
        "lhand_norm": np.zeros((p, 21, 2)), "lhand_scores": np.zeros((p, 21)),
        "rhand_norm": np.zeros((p, 21, 2)), "rhand_scores": np.zeros((p, 21)),
    }  # fmt: skip


def test_detections_message_names_field_and_shapes() -> None:
    with pytest.raises(
        InputError, match=re.escape("Detections.boxes_xyxy: expected shape (any, 4), got (3, 5)")
    ):
        Detections(np.zeros((3, 5)), np.zeros(3))
    with pytest.raises(
        InputError, match=re.escape("Detections.scores: expected shape (3), got (2,)")
    ):
        Detections(np.zeros((3, 4)), np.zeros(2))


def test_detections_dtype_and_readonly() -> None:
    d = Detections(np.ones((2, 4), np.float64), [0.9, 0.5])
    assert d.boxes_xyxy.dtype == np.float32 and d.scores.dtype == np.float32
    assert len(d) == 2 and len(Detections.empty()) == 0
    with pytest.raises(ValueError):
        d.boxes_xyxy[0, 0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.scores = np.zeros(2)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "bad", "want"),
    [
        ("face_norm", np.zeros((2, 70, 2)), "Pose2D.face_norm: expected shape (2, 68, 2), got (2, 70, 2)"),
        ("lhand_scores", np.zeros((2, 20)), "Pose2D.lhand_scores: expected shape (2, 21), got (2, 20)"),
        ("body_scores", np.zeros((3, 24)), "Pose2D.body_scores: expected shape (2, 24), got (3, 24)"),
    ],
)  # fmt: skip
def test_pose2d_messages(field: str, bad: np.ndarray, want: str) -> None:
    kw = _pose2d(2)
    kw[field] = bad
    with pytest.raises(InputError, match=re.escape(want)):
        Pose2D(**kw)


def test_pose2d_body_shape_message() -> None:
    kw = _pose2d(1)
    kw["body_norm"] = np.zeros((24, 2))
    with pytest.raises(
        InputError, match=re.escape("Pose2D.body_norm: expected shape (P, 24, 2), got (24, 2)")
    ):
        Pose2D(**kw)


def test_pose2d_subset_and_select() -> None:
    kw = _pose2d(2)
    kw["body_scores"] = np.full((2, 24), 0.2)
    kw["body_scores"][1, [0, 1, 5]] = [0.31, 0.3, 0.9]
    pose = Pose2D(**kw, track_ids=[7, 9])
    assert pose.num_people == 2
    subset = pose.body_subset
    assert np.all(subset[0] == -1)
    assert subset[1, 0] == 0 and subset[1, 1] == -1 and subset[1, 5] == 5  # > 0.3 strictly
    sel = pose.select([1])
    assert sel.num_people == 1 and sel.track_ids.tolist() == [9]
    assert Pose2D.empty().num_people == 0
    assert pose.track_ids.dtype == np.int32


def test_pose3d_validation_and_present() -> None:
    with pytest.raises(
        InputError, match=re.escape("Pose3D.joints_mm: expected shape (any, 24, 3), got (2, 18, 3)")
    ):
        Pose3D(np.zeros((2, 18, 3)))
    j = np.zeros((2, 24, 3), np.float32)
    j[0, 0] = (0, 0, 4000)
    p = Pose3D(j)
    assert p.present.tolist() == [True, False]
    assert p.track_ids.tolist() == [-1, -1]
    with pytest.raises(InputError, match=re.escape("Pose3D.present: expected shape (2), got (3,)")):
        Pose3D(j, present=[True, True, False])


def test_camera_and_sequence_validation() -> None:
    with pytest.raises(InputError, match="size_hw must be positive"):
        Camera(1, 1, 0, 0, (0, 5))
    with pytest.raises(InputError, match="focal lengths must be positive"):
        Camera(0, 1, 0, 0, (5, 5))
    with pytest.raises(InputError, match="fps must be > 0"):
        PoseSequence(frames=(), size_hw=(512, 896), fps=0)
    with pytest.raises(InputError, match=re.escape("PoseSequence.frames[1]: expected PoseFrame")):
        PoseSequence(frames=(PoseFrame(), "x"), size_hw=(512, 896))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="differs from size_hw"):
        PoseSequence(frames=(), size_hw=(512, 896), camera=Camera.from_fov((896, 512)))
    seq = PoseSequence(frames=[PoseFrame()], size_hw=(512, 896))
    assert seq.camera == Camera.from_fov((512, 896)) == seq.base_camera
    assert isinstance(seq.frames, tuple) and len(seq) == 1


def test_camera_matrix_round_trip() -> None:
    cam = Camera.from_fov((720, 1280))
    assert Camera.from_matrix(cam.K, (720, 1280)) == cam
    with pytest.raises(InputError, match="3x3"):
        Camera.from_matrix(np.eye(4), (720, 1280))


def test_trusted_constructors_equal_validated_ones_and_freeze() -> None:
    import dataclasses

    from scail_pose_core.types import Pose2D, Pose3D

    rng = np.random.default_rng(1)
    args = [
        rng.random((2, 24, 2)), rng.random((2, 24)).astype(np.float32),
        rng.random((2, 68, 2)), rng.random((2, 68)).astype(np.float32),
        rng.random((2, 21, 2)), rng.random((2, 21)).astype(np.float32),
        rng.random((2, 21, 2)), rng.random((2, 21)).astype(np.float32),
        np.array([3, 5], np.int32),
    ]  # fmt: skip
    a, b = Pose2D(*args), Pose2D.trusted(*[x.copy() for x in args])
    for f in dataclasses.fields(Pose2D):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        assert va.dtype == vb.dtype and np.array_equal(va, vb), f.name
        assert not vb.flags.writeable, f.name
    j = rng.random((2, 24, 3)).astype(np.float32)
    c = Pose3D.trusted(j, np.array([True, False]), np.array([1, 2], np.int32))
    assert c.num_people == 2 and not c.joints_mm.flags.writeable
    assert np.array_equal(Pose3D(j, [True, False], [1, 2]).joints_mm, c.joints_mm)
