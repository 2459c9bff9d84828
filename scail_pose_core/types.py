"""The data model: immutable, validated dataclasses over numpy arrays.

Shape letters: T frames, P people, N detections. Units and frames (see ``geometry.camera``):

* 2D keypoints are **normalised** image coordinates (x/W, y/H) of the frame they were found
  in, in the reference's DWPose pose-dict convention: body points are never −1 (visibility is
  ``score > 0.3``); an invisible face or hand point has both coordinates equal to −1
  (:data:`~scail_pose_core.skeletons.openpose.INVISIBLE`). Fields carrying them end in ``_norm``.
* Boxes are **pixels** of the frame, xyxy, not clipped (``boxes_xyxy``).
* 3D joints are SMPL-24, camera-space **millimetres**, OpenCV axes (``joints_mm``).

Objects are never mutated: transforms return new objects (``dataclasses.replace``). ComfyUI
caches node outputs and may hand one object to several downstream nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .geometry.camera import DEFAULT_FOV_DEG, fov_focal
from .geometry.camera import project as _project
from .skeletons import openpose as op
from .skeletons import smpl

FloatArray = np.ndarray
IntArray = np.ndarray


def _check(
    owner: str, name: str, arr: object, shape: tuple[int | None, ...], dtype: type | None = None
) -> np.ndarray:
    """Return ``arr`` as a read-only array of ``dtype`` after checking its shape.

    ``None`` in ``shape`` matches any size. The message names the field, the shape seen and the
    shape expected.
    """
    if (
        isinstance(arr, np.ndarray)
        and not arr.flags.writeable
        and (dtype is None or arr.dtype == dtype)
    ):
        a = arr  # already validated and frozen (e.g. taken from another instance): no copy
    else:
        a = np.array(arr, dtype=dtype, copy=True)
        a.setflags(write=False)
    if a.ndim != len(shape) or any(
        e is not None and e != s for e, s in zip(shape, a.shape, strict=False)
    ):
        want = "(" + ", ".join("any" if e is None else str(e) for e in shape) + ")"
        raise InputError(f"{owner}.{name}: expected shape {want}, got {tuple(a.shape)}")
    return a


@dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics in pixels for an image of ``size_hw`` = (H, W)."""

    fx: float
    fy: float
    cx: float
    cy: float
    size_hw: tuple[int, int]

    def __post_init__(self) -> None:
        h, w = self.size_hw
        if h <= 0 or w <= 0:
            raise InputError(f"Camera.size_hw must be positive, got {self.size_hw}")
        if self.fx <= 0 or self.fy <= 0:
            raise InputError(f"Camera focal lengths must be positive, got {self.fx}, {self.fy}")
        object.__setattr__(self, "size_hw", (int(h), int(w)))

    @classmethod
    def from_fov(cls, size_hw: tuple[int, int], fov_deg: float = DEFAULT_FOV_DEG) -> Camera:
        """The reference FOV camera K0 (reference_spec.md §4.3) for an image of ``size_hw``."""
        f = fov_focal(size_hw, fov_deg)
        h, w = size_hw
        return cls(fx=f, fy=f, cx=w / 2.0, cy=h / 2.0, size_hw=(h, w))

    @classmethod
    def from_matrix(cls, k: np.ndarray, size_hw: tuple[int, int]) -> Camera:
        """Build from a 3×3 intrinsic matrix."""
        k = np.asarray(k, dtype=np.float64)
        if k.shape != (3, 3):
            raise InputError(f"Camera.from_matrix: expected a 3x3 matrix, got {k.shape}")
        return cls(
            fx=float(k[0, 0]), fy=float(k[1, 1]), cx=float(k[0, 2]), cy=float(k[1, 2]),
            size_hw=size_hw,
        )  # fmt: skip

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the conventional name
        """3×3 float64 intrinsic matrix."""
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], np.float64)

    def project(self, points_mm: np.ndarray) -> np.ndarray:
        """Camera-space points (..., 3) mm → pixels (..., 2)."""
        return _project(points_mm, self.fx, self.fy, self.cx, self.cy)


@dataclass(frozen=True)
class Detections:
    """Person boxes of one frame: ``boxes_xyxy`` (N, 4) float32 pixels, ``scores`` (N,) float32.

    Ordered by descending score (the reference's "person 0" is row 0).
    """

    boxes_xyxy: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        b = _check("Detections", "boxes_xyxy", self.boxes_xyxy, (None, 4), np.float32)
        s = _check("Detections", "scores", self.scores, (b.shape[0],), np.float32)
        object.__setattr__(self, "boxes_xyxy", b)
        object.__setattr__(self, "scores", s)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return int(self.boxes_xyxy.shape[0])


_POSE2D_FIELDS = (
    "body_norm", "body_scores", "face_norm", "face_scores", "lhand_norm", "lhand_scores",
    "rhand_norm", "rhand_scores", "track_ids",
)  # fmt: skip


@dataclass(frozen=True)
class Pose2D:
    """Whole-body 2D poses of P people in one frame (the reference's DWPose structure).

    Coordinates are normalised (x/W, y/H). Face/hand points whose score < 0.3 are −1.
    Each person has its **own** left and right hand (the reference's stacked
    all-left-then-all-right array is converted at the boundary; reference_spec.md §10.3).

    Fields:
        body_norm: (P, 24, 2) float64, OpenPose-18 body + 6 feet; never −1.
        body_scores: (P, 24) float32; a body point is visible when score > 0.3.
        face_norm: (P, 68, 2) float64; iBUG-68 order.
        face_scores: (P, 68) float32.
        lhand_norm, rhand_norm: (P, 21, 2) float64.
        lhand_scores, rhand_scores: (P, 21) float32.
        track_ids: (P,) int32 identity of each person (−1 = not assigned).
    """

    body_norm: np.ndarray
    body_scores: np.ndarray
    face_norm: np.ndarray
    face_scores: np.ndarray
    lhand_norm: np.ndarray
    lhand_scores: np.ndarray
    rhand_norm: np.ndarray
    rhand_scores: np.ndarray
    track_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        p = np.asarray(self.body_norm).shape[0] if np.asarray(self.body_norm).ndim == 3 else None
        if p is None:
            raise InputError(
                f"Pose2D.body_norm: expected shape (P, 24, 2), got {np.asarray(self.body_norm).shape}"
            )
        spec = {
            "body_norm": ((p, op.NUM_BODY, 2), np.float64),
            "body_scores": ((p, op.NUM_BODY), np.float32),
            "face_norm": ((p, op.NUM_FACE, 2), np.float64),
            "face_scores": ((p, op.NUM_FACE), np.float32),
            "lhand_norm": ((p, op.NUM_HAND, 2), np.float64),
            "lhand_scores": ((p, op.NUM_HAND), np.float32),
            "rhand_norm": ((p, op.NUM_HAND, 2), np.float64),
            "rhand_scores": ((p, op.NUM_HAND), np.float32),
        }
        for name, (shape, dtype) in spec.items():
            object.__setattr__(
                self, name, _check("Pose2D", name, getattr(self, name), shape, dtype)
            )
        ids = np.full((p,), -1, np.int32) if self.track_ids is None else self.track_ids
        object.__setattr__(self, "track_ids", _check("Pose2D", "track_ids", ids, (p,), np.int32))

    @classmethod
    def trusted(
        cls,
        body_norm: np.ndarray,
        body_scores: np.ndarray,
        face_norm: np.ndarray,
        face_scores: np.ndarray,
        lhand_norm: np.ndarray,
        lhand_scores: np.ndarray,
        rhand_norm: np.ndarray,
        rhand_scores: np.ndarray,
        track_ids: np.ndarray,
    ) -> Pose2D:
        """Build without validation, for hot loops whose arrays are known to be right.

        The caller guarantees the shapes and dtypes of the class docstring (float64 coordinates,
        float32 scores, int32 ids) and hands over ownership: the arrays are frozen in place.
        Anything from outside the core goes through the normal constructor.
        """
        obj = object.__new__(cls)
        values = (
            body_norm, body_scores, face_norm, face_scores, lhand_norm, lhand_scores,
            rhand_norm, rhand_scores, track_ids,
        )  # fmt: skip
        for f, v in zip(_POSE2D_FIELDS, values, strict=True):
            v.setflags(write=False)
            object.__setattr__(obj, f, v)
        return obj

    @property
    def num_people(self) -> int:
        return int(self.body_norm.shape[0])

    @property
    def body_subset(self) -> np.ndarray:
        """(P, 24) float64: the reference's subset — index j where score > 0.3, else −1."""
        idx = np.broadcast_to(np.arange(op.NUM_BODY, dtype=np.float64), self.body_scores.shape)
        return np.where(self.body_scores > op.SCORE_THRESHOLD, idx, -1.0)

    @classmethod
    def empty(cls) -> Pose2D:
        """No people."""
        return cls(
            np.zeros((0, 24, 2)), np.zeros((0, 24)), np.zeros((0, 68, 2)), np.zeros((0, 68)),
            np.zeros((0, 21, 2)), np.zeros((0, 21)), np.zeros((0, 21, 2)), np.zeros((0, 21)),
        )  # fmt: skip

    def select(self, indices: Sequence[int]) -> Pose2D:
        """A new Pose2D holding only the people at ``indices`` (in that order)."""
        idx = np.asarray(list(indices), dtype=np.int64)
        return Pose2D(
            self.body_norm[idx], self.body_scores[idx], self.face_norm[idx],
            self.face_scores[idx], self.lhand_norm[idx], self.lhand_scores[idx],
            self.rhand_norm[idx], self.rhand_scores[idx], self.track_ids[idx],
        )  # fmt: skip


@dataclass(frozen=True)
class Pose3D:
    """SMPL-24 3D poses of P people in one frame, camera-space millimetres (OpenCV axes).

    Fields:
        joints_mm: (P, 24, 3) float32. A missing person has all-zero joints.
        present: (P,) bool; False where the lifter found nobody for that slot (the reference
            writes zeros there; we keep an explicit marker as well).
        track_ids: (P,) int32 identity of each person (−1 = not assigned).
    """

    joints_mm: np.ndarray
    present: np.ndarray | None = None
    track_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        j = _check("Pose3D", "joints_mm", self.joints_mm, (None, smpl.NUM_JOINTS, 3), np.float32)
        p = j.shape[0]
        present = np.any(j != 0, axis=(1, 2)) if self.present is None else self.present
        ids = np.full((p,), -1, np.int32) if self.track_ids is None else self.track_ids
        object.__setattr__(self, "joints_mm", j)
        object.__setattr__(self, "present", _check("Pose3D", "present", present, (p,), np.bool_))
        object.__setattr__(self, "track_ids", _check("Pose3D", "track_ids", ids, (p,), np.int32))

    @classmethod
    def trusted(cls, joints_mm: np.ndarray, present: np.ndarray, track_ids: np.ndarray) -> Pose3D:
        """Build without validation (see :meth:`Pose2D.trusted`): (P,24,3) float32 joints,
        (P,) bool present, (P,) int32 ids; the arrays are frozen in place."""
        obj = object.__new__(cls)
        for f, v in (("joints_mm", joints_mm), ("present", present), ("track_ids", track_ids)):
            v.setflags(write=False)
            object.__setattr__(obj, f, v)
        return obj

    @property
    def num_people(self) -> int:
        return int(self.joints_mm.shape[0])

    @classmethod
    def empty(cls) -> Pose3D:
        return cls(np.zeros((0, 24, 3), np.float32))

    def select(self, indices: Sequence[int]) -> Pose3D:
        idx = np.asarray(list(indices), dtype=np.int64)
        return Pose3D(self.joints_mm[idx], self.present[idx], self.track_ids[idx])


@dataclass(frozen=True)
class PoseFrame:
    """Everything known about one video frame. Any stage's output may be absent (None)."""

    detections: Detections | None = None
    pose2d: Pose2D | None = None
    pose3d: Pose3D | None = None


@dataclass(frozen=True)
class PoseSequence:
    """A pose video: what flows between nodes.

    Fields:
        frames: one :class:`PoseFrame` per video frame.
        size_hw: (H, W) of the frames the poses were measured on (pixels).
        fps: frames per second of the source (or output) video.
        camera: the camera to **render** with: K0 (FOV-55 of ``size_hw``) unless retargeting
            replaced it with a fitted K_new. 3D joints are always expressed for K0's camera
            centre and axes (only focal lengths / principal point differ).
        meta: free-form JSON-serialisable notes (source file, alignment report, ...).
    """

    frames: tuple[PoseFrame, ...]
    size_hw: tuple[int, int]
    fps: float = 16.0
    camera: Camera | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        frames = tuple(self.frames)
        for i, f in enumerate(frames):
            if not isinstance(f, PoseFrame):
                raise InputError(f"PoseSequence.frames[{i}]: expected PoseFrame, got {type(f)}")
        h, w = (int(v) for v in self.size_hw)
        if h <= 0 or w <= 0:
            raise InputError(f"PoseSequence.size_hw must be positive, got {self.size_hw}")
        if not (self.fps > 0):
            raise InputError(f"PoseSequence.fps must be > 0, got {self.fps}")
        cam = self.camera if self.camera is not None else Camera.from_fov((h, w))
        if cam.size_hw != (h, w):
            raise InputError(
                f"PoseSequence.camera.size_hw {cam.size_hw} differs from size_hw {(h, w)}"
            )
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "size_hw", (h, w))
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "camera", cam)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def base_camera(self) -> Camera:
        """K0: the FOV-55 camera of ``size_hw`` that the 3D joints were measured with."""
        return Camera.from_fov(self.size_hw)
