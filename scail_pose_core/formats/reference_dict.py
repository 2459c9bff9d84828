"""Conversion between :class:`Pose2D` and the reference's per-frame DWPose "pose dict".

The reference dict (reference_spec.md §1.5) is::

    {"bodies": {"candidate": (n, 24, 2), "subset": (n, 24)},
     "faces": (n, 68, 2),
     "hands": (2n, 21, 2),   # all persons' LEFT hands first, then all RIGHT hands
     # optional: "scores": {"body_score": (n, 24), "hand_score": (2n, 21), "face_score": (n, 68)}
    }

All coordinates normalised (x/W, y/H); invisible face/hand points are −1. We store each
person's own left and right hand (fixing the interleaving bug of §10.3) and convert here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..skeletons import openpose as op
from ..types import Pose2D


def pose2d_from_reference_dict(d: dict[str, Any]) -> Pose2D:
    """Build a :class:`Pose2D` from a reference pose dict (lists or arrays).

    Scores: taken from ``d["scores"]`` when present. Otherwise body scores are 1 where
    ``subset != -1`` else 0, and face/hand scores 1 where the point is not −1 else 0.
    """
    try:
        cand = np.asarray(d["bodies"]["candidate"], dtype=np.float64)
        subset = np.asarray(d["bodies"]["subset"], dtype=np.float64)
        faces = np.asarray(d["faces"], dtype=np.float64)
        hands = np.asarray(d["hands"], dtype=np.float64)
    except (KeyError, TypeError) as exc:
        raise InputError(
            f"not a reference pose dict (needs bodies.candidate, bodies.subset, faces, hands): {exc}"
        ) from exc
    n = cand.shape[0] if cand.ndim == 3 else 0
    if n == 0:
        return Pose2D.empty()
    cand = cand.reshape(n, -1, 2)
    faces = faces.reshape(n, op.NUM_FACE, 2) if faces.size else np.full((n, 68, 2), -1.0)
    hands = hands.reshape(-1, op.NUM_HAND, 2) if hands.size else np.full((2 * n, 21, 2), -1.0)
    if hands.shape[0] != 2 * n:
        raise InputError(f"pose dict has {n} bodies but {hands.shape[0]} hands (expected {2 * n})")
    if cand.shape[1] < op.NUM_BODY:  # 18-point bodies (POSE_KEYPOINT-derived): pad feet
        pad = np.zeros((n, op.NUM_BODY - cand.shape[1], 2))
        cand = np.concatenate([cand, pad], axis=1)
        subset = np.concatenate([subset.reshape(n, -1), np.full((n, pad.shape[1]), -1.0)], 1)
    subset = subset.reshape(n, -1)[:, : op.NUM_BODY]
    scores = d.get("scores") or {}
    if "body_score" in scores:
        body_scores = np.asarray(scores["body_score"], np.float64).reshape(n, -1)[:, : op.NUM_BODY]
        # the reference stores the subset array as body_score; recover a usable score
        if np.all(np.isin(body_scores, np.append(np.arange(op.NUM_BODY), -1.0))):
            body_scores = np.where(subset >= 0, 1.0, 0.0)
    else:
        body_scores = np.where(subset >= 0, 1.0, 0.0)
    if "face_score" in scores:
        face_scores = np.asarray(scores["face_score"], np.float64).reshape(n, op.NUM_FACE)
    else:
        face_scores = np.where(np.all(faces == op.INVISIBLE, axis=-1), 0.0, 1.0)
    if "hand_score" in scores:
        hand_scores = np.asarray(scores["hand_score"], np.float64).reshape(2 * n, op.NUM_HAND)
    else:
        hand_scores = np.where(np.all(hands == op.INVISIBLE, axis=-1), 0.0, 1.0)
    return Pose2D(
        body_norm=cand,
        body_scores=body_scores,
        face_norm=faces,
        face_scores=face_scores,
        lhand_norm=hands[:n],
        lhand_scores=hand_scores[:n],
        rhand_norm=hands[n:],
        rhand_scores=hand_scores[n:],
    )


def pose2d_to_reference_dict(pose: Pose2D) -> dict[str, Any]:
    """The reference pose dict (numpy arrays) of ``pose``; hands stacked all-left, all-right."""
    return {
        "bodies": {"candidate": np.array(pose.body_norm), "subset": pose.body_subset},
        "faces": np.array(pose.face_norm),
        "hands": np.concatenate([pose.lhand_norm, pose.rhand_norm], axis=0),
        "scores": {
            "body_score": pose.body_subset,
            "face_score": np.array(pose.face_scores, np.float64),
            "hand_score": np.concatenate([pose.lhand_scores, pose.rhand_scores], 0).astype(
                np.float64
            ),
        },
    }
