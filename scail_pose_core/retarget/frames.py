"""Per-character arrays ⇄ PoseSequence frames, vectorised across frames (the fast path).

:class:`FrameStack` walks the frames once and concatenates every person of every frame into
one array per field (3D: joints, present, track ids; 2D: the nine :class:`Pose2D` fields), with
per-frame offsets. Picking a character (person 0, or the first person with a track id), the
gather into :class:`Track` arrays and the write-back are then array operations; the only
per-frame Python work left is slicing the results into new :class:`Pose3D`/:class:`Pose2D`
objects with the unvalidated ``trusted`` constructors (the arrays come from validated inputs and
keep their dtypes and shapes).

Results are identical to the per-frame, validated path kept in ``retarget/__init__.py``
(``_gather`` / ``_frame_with``); tests/core/retarget/test_retarget_fast_path.py checks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..skeletons import openpose as op
from ..types import Pose2D, Pose3D, PoseFrame, PoseSequence

_P3_FIELDS = ("joints_mm", "present", "track_ids")
_P2_FIELDS = (
    "body_norm", "body_scores", "face_norm", "face_scores", "lhand_norm", "lhand_scores",
    "rhand_norm", "rhand_scores", "track_ids",
)  # fmt: skip
_P3_EMPTY = {
    "joints_mm": ((24, 3), np.float32),
    "present": ((), np.bool_),
    "track_ids": ((), np.int32),
}
_P2_EMPTY = {
    "body_norm": ((op.NUM_BODY, 2), np.float64),
    "body_scores": ((op.NUM_BODY,), np.float32),
    "face_norm": ((op.NUM_FACE, 2), np.float64),
    "face_scores": ((op.NUM_FACE,), np.float32),
    "lhand_norm": ((op.NUM_HAND, 2), np.float64),
    "lhand_scores": ((op.NUM_HAND,), np.float32),
    "rhand_norm": ((op.NUM_HAND, 2), np.float64),
    "rhand_scores": ((op.NUM_HAND,), np.float32),
    "track_ids": ((), np.int32),
}
#: Track fields ⇄ Pose2D coordinate fields.
_TRACK_2D = (("body", "body_norm"), ("face", "face_norm"), ("lhand", "lhand_norm"),
             ("rhand", "rhand_norm"))  # fmt: skip


@dataclass
class Track:
    """One character across the sequence: arrays with a per-frame validity mask."""

    joints: np.ndarray  # (T, 24, 3) float32 (zeros where missing)
    valid3d: np.ndarray  # (T,) bool
    body: np.ndarray  # (T, 24, 2) float64
    face: np.ndarray  # (T, 68, 2)
    lhand: np.ndarray  # (T, 21, 2)
    rhand: np.ndarray  # (T, 21, 2)
    valid2d: np.ndarray  # (T,) bool
    slot3d: np.ndarray  # (T,) int, person index in the frame's Pose3D (−1 = absent)
    slot2d: np.ndarray  # (T,) int, person index in the frame's Pose2D

    @classmethod
    def empty(cls, t: int) -> Track:
        return cls(
            joints=np.zeros((t, 24, 3), np.float32),
            valid3d=np.zeros(t, bool),
            body=np.zeros((t, op.NUM_BODY, 2)),
            face=np.full((t, op.NUM_FACE, 2), op.INVISIBLE),
            lhand=np.full((t, op.NUM_HAND, 2), op.INVISIBLE),
            rhand=np.full((t, op.NUM_HAND, 2), op.INVISIBLE),
            valid2d=np.zeros(t, bool),
            slot3d=np.full(t, -1),
            slot2d=np.full(t, -1),
        )


class _Kind:
    """All people of one pose kind (3D or 2D) of all frames, concatenated.

    ``objs[i]`` is frame i's pose object (or None); its people are rows
    ``starts[i]:starts[i + 1]`` of every array in ``arrays``.
    """

    def __init__(self, objs: Sequence, fields: tuple[str, ...], empty: dict) -> None:
        t = len(objs)
        self.objs = objs
        there = [o for o in objs if o is not None]
        counts = np.zeros(t, np.int64)
        has = np.fromiter((o is not None for o in objs), bool, t)
        counts[has] = np.fromiter((o.track_ids.shape[0] for o in there), np.int64, len(there))
        self.counts = counts
        self.starts = np.zeros(t + 1, np.int64)
        np.cumsum(counts, out=self.starts[1:])
        self.arrays: dict[str, np.ndarray] = {}
        for f in fields:
            shape, dtype = empty[f]
            if there:
                self.arrays[f] = np.concatenate([getattr(o, f) for o in there])
            else:
                self.arrays[f] = np.zeros((0, *shape), dtype)
        self.touched = np.zeros(t, bool)

    def slots(self, tid: int | None) -> tuple[np.ndarray, np.ndarray]:
        """(slot, row) per frame: person 0 (``tid`` None) or the first person with ``tid``.

        slot = index within the frame (−1 = none), row = index into the arrays (−1 = none).
        """
        t = self.counts.shape[0]
        if tid is None:
            slot = np.where(self.counts > 0, 0, -1)
        else:
            rows = np.flatnonzero(self.arrays["track_ids"] == tid)
            frame_of = np.searchsorted(self.starts, rows, side="right") - 1
            frames, first = np.unique(frame_of, return_index=True)
            slot = np.full(t, -1, np.int64)
            slot[frames] = rows[first] - self.starts[frames]
        row = np.where(slot >= 0, self.starts[:-1] + slot, -1)
        return slot, row


def _views(*arrays: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Per frame, read-only (1, ...) views of each (T, ...) array: [(a[i:i+1], b[i:i+1]), ...]."""
    per = []
    for a in arrays:
        a.setflags(write=False)
        per.append(list(a[:, None]))  # iterating a view yields the (1, ...) slices in C
    return list(zip(*per, strict=True))


class FrameStack:
    """A :class:`PoseSequence` as concatenated per-person arrays (see the module docstring)."""

    def __init__(self, seq: PoseSequence) -> None:
        self.seq = seq
        frames = seq.frames
        self.p3 = _Kind([f.pose3d for f in frames], _P3_FIELDS, _P3_EMPTY)
        self.p2 = _Kind([f.pose2d for f in frames], _P2_FIELDS, _P2_EMPTY)

    def track_ids(self) -> set[int]:
        """Every track id ≥ 0 of the sequence (3D and 2D)."""
        ids = np.concatenate([self.p3.arrays["track_ids"], self.p2.arrays["track_ids"]])
        return {int(i) for i in np.unique(ids[ids >= 0])}

    def gather(self, tid: int | None) -> Track:
        """The character's arrays: person 0 of every frame (``tid`` None) or track ``tid``."""
        t = len(self.seq)
        tr = Track.empty(t)
        slot3, row3 = self.p3.slots(tid)
        sel = row3 >= 0
        tr.slot3d = slot3
        if sel.any():
            a = self.p3.arrays
            j = a["joints_mm"][row3[sel]]
            tr.joints[sel] = j
            tr.valid3d[sel] = a["present"][row3[sel]] & np.any(j != 0, axis=(1, 2))
        slot2, row2 = self.p2.slots(tid)
        sel = row2 >= 0
        tr.slot2d = slot2
        if sel.any():
            a = self.p2.arrays
            for name, field in _TRACK_2D:
                getattr(tr, name)[sel] = a[field][row2[sel]]
            tr.valid2d[sel] = True
        return tr

    # ---------------------------------------------------------------------------------------
    # write-back

    def frames_single(self, tr: Track, joints: np.ndarray | None) -> list[PoseFrame]:
        """Frames keeping only the character (person 0), with its results.

        ``joints``: (T, 24, 3) new 3D joints for the frames where ``tr.valid3d`` (None: keep
        the input's 3D). Equivalent to ``_frame_with(fr, tr, i, only=True, joints)``, except
        that a one-person Pose3D whose joints do not change is the input's own (immutable)
        object rather than an equal copy. The new objects hold read-only (1, ...) views of
        per-sequence (T, ...) arrays.
        """
        frames = self.seq.frames
        _, row3 = self.p3.slots(None)
        _, row2 = self.p2.slots(None)
        a3, a2 = self.p3.arrays, self.p2.arrays
        r3 = np.maximum(row3, 0)
        r2 = np.maximum(row2, 0)
        if a3["joints_mm"].shape[0]:
            jm = a3["joints_mm"][r3]
            if joints is not None:
                jm[tr.valid3d] = joints[tr.valid3d]
            pres, ids3 = a3["present"][r3], a3["track_ids"][r3]
        else:
            jm = pres = ids3 = None
        if a2["body_norm"].shape[0]:
            sc = {f: a2[f][r2] for f in ("body_scores", "face_scores", "lhand_scores",
                                         "rhand_scores", "track_ids")}  # fmt: skip
            coords = {name: np.ascontiguousarray(getattr(tr, name), np.float64)
                      for name, _ in _TRACK_2D}  # fmt: skip
        t3 = _views(jm, pres, ids3) if jm is not None else None
        t2 = None
        if a2["body_norm"].shape[0]:
            t2 = _views(
                coords["body"], sc["body_scores"], coords["face"], sc["face_scores"],
                coords["lhand"], sc["lhand_scores"], coords["rhand"], sc["rhand_scores"],
                sc["track_ids"],
            )  # fmt: skip
        # a one-person Pose3D whose joints do not change is kept as it is (immutable objects)
        new3 = (row3 >= 0) & (self.p3.counts != 1)
        if joints is not None:
            new3 |= (row3 >= 0) & tr.valid3d
        has3, has2 = new3.tolist(), (row2 >= 0).tolist()
        p3_trusted, p2_trusted = Pose3D.trusted, Pose2D.trusted
        out = []
        for i, fr in enumerate(frames):
            p3, p2, det = fr.pose3d, fr.pose2d, fr.detections
            if has3[i]:
                p3 = p3_trusted(*t3[i])
            if has2[i]:
                p2 = p2_trusted(*t2[i])
            if det is not None and len(det) > 1:
                det = type(det)(det.boxes_xyxy[:1], det.scores[:1])
            out.append(PoseFrame(detections=det, pose2d=p2, pose3d=p3))
        return out

    def put(self, tr: Track, tid: int, joints: np.ndarray | None) -> None:
        """Write the character's results into its slots (multi-person; others untouched).

        ``joints``: (T, 24, 3) new 3D joints for the frames where ``tr.valid3d``. A later
        :meth:`gather` sees the update. Equivalent to ``_frame_with(..., only=False, ...)``.
        """
        _, row3 = self.p3.slots(tid)
        if joints is not None:
            sel = (row3 >= 0) & tr.valid3d
            self.p3.arrays["joints_mm"][row3[sel]] = joints[sel]
            self.p3.touched |= sel
        _, row2 = self.p2.slots(tid)
        sel = row2 >= 0
        for name, field in _TRACK_2D:
            self.p2.arrays[field][row2[sel]] = getattr(tr, name)[sel]
        self.p2.touched |= sel

    def frames_multi(self) -> list[PoseFrame]:
        """Frames with every :meth:`put` applied (untouched frames are the input's objects)."""
        frames = self.seq.frames
        k3, k2 = self.p3, self.p2
        for kind in (k3, k2):
            for arr in kind.arrays.values():
                arr.setflags(write=False)
        a3, a2 = k3.arrays, k2.arrays
        out = []
        for i, fr in enumerate(frames):
            t3, t2 = k3.touched[i], k2.touched[i]
            if not (t3 or t2):
                out.append(fr)
                continue
            p3, p2 = fr.pose3d, fr.pose2d
            if t3:
                s = slice(k3.starts[i], k3.starts[i + 1])
                p3 = Pose3D.trusted(a3["joints_mm"][s], a3["present"][s], a3["track_ids"][s])
            if t2:
                s = slice(k2.starts[i], k2.starts[i + 1])
                p2 = Pose2D.trusted(*(a2[f][s] for f in _P2_FIELDS))
            out.append(PoseFrame(detections=fr.detections, pose2d=p2, pose3d=p3))
        return out
