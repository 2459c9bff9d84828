"""Stable identities across frames: Hungarian matching of observations to tracks.

An *observation* is one person in one frame, described by any of: a mask, a pixel box, a 2D
centre (pixels) and SMPL-24 3D joints (camera mm). A *track* is an identity with its last seen
state and a constant-velocity prediction. Each frame, the cost of giving observation j to track
i is the weighted mean of the cues both sides have:

* overlap: 1 − IoU of the masks (or of the boxes when a mask is missing);
* 2D: distance between the predicted and observed 2D centre / image diagonal, × 4;
* 3D: distance between the predicted and observed pelvis / 1 m;
* an optional caller cost (e.g. 1 − the fraction of a 2D person's keypoints inside a
  character's mask).

Pairs above the gate (``max_cost``, relaxed by ``gap_relax`` per missing frame) are never
matched; the rest are matched by ``scipy.optimize.linear_sum_assignment``. Depth separates
people whose 2D paths cross; velocity carries tracks through short occlusions. A track that is
not matched keeps its id reserved ("missing", never given to someone else) for up to
``max_missing_frames``; after that it is retired and its id is never reused. When the number
of identities is known (``fixed_ids`` or ``max_ids`` reached), people left over after the gated
matching are matched to the left-over tracks by elimination (a person re-appearing far from
where they vanished keeps their id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .errors import InputError
from .types import Pose3D

#: A cost that means "never match".
INFEASIBLE = 1e9
_PELVIS = 0


@dataclass(frozen=True)
class TrackOptions:
    """Weights and gates of :class:`IdentityTracker`.

    Attributes:
        overlap_weight, dist2d_weight, dist3d_weight, extra_weight: cue weights (≥ 0).
        max_cost: gate on the weighted mean cost of a pair (lower = stricter).
        gap_relax: added to the gate per frame a track has been missing.
        max_missing_frames: frames a track stays reserved without being seen.
        velocity_damping: the predicted motion per missing frame is multiplied by this
            (0 = no prediction, 1 = constant velocity).
        max_ids: cap on identities created (None = unlimited); extra people get −1.
    """

    overlap_weight: float = 1.0
    dist2d_weight: float = 1.0
    dist3d_weight: float = 1.0
    extra_weight: float = 1.0
    max_cost: float = 0.8
    gap_relax: float = 0.02
    max_missing_frames: int = 150
    velocity_damping: float = 0.9
    max_ids: int | None = None

    def __post_init__(self) -> None:
        for name in ("overlap_weight", "dist2d_weight", "dist3d_weight", "extra_weight"):
            if getattr(self, name) < 0:
                raise InputError(f"TrackOptions.{name} must be >= 0, got {getattr(self, name)}")
        if self.max_cost <= 0:
            raise InputError(f"TrackOptions.max_cost must be > 0, got {self.max_cost}")


@dataclass(frozen=True)
class Observation:
    """One person in one frame; every cue is optional.

    Fields:
        box_xyxy: (4,) pixels.
        mask: (H, W) bool (any resolution, the same for all observations of a tracker).
        center_xy: (2,) pixels (e.g. the mean of visible body keypoints).
        joints_mm: (24, 3) SMPL-24 camera mm (the pelvis, joint 0, is compared).
    """

    box_xyxy: np.ndarray | None = None
    mask: np.ndarray | None = None
    center_xy: np.ndarray | None = None
    joints_mm: np.ndarray | None = None


@dataclass
class _Track:
    track_id: int
    last_frame: int
    box: np.ndarray | None = None
    mask: np.ndarray | None = None
    center: np.ndarray | None = None
    vel2d: np.ndarray | None = None
    pelvis: np.ndarray | None = None
    vel3d: np.ndarray | None = None


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two pixel xyxy boxes (0 when either is empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(
        0.0, b[3] - b[1]
    )
    union = area - inter
    return float(inter / union) if union > 0 else 0.0


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks of one shape (0 when both are empty)."""
    inter = np.count_nonzero(a & b)
    union = np.count_nonzero(a | b)
    return float(inter / union) if union else 0.0


def mask_box(mask: np.ndarray) -> np.ndarray | None:
    """(4,) float32 pixel xyxy box around a bool mask (exclusive max), or None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], np.float32)


def match(cost: np.ndarray, gate: np.ndarray | float) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one matching; pairs with cost > gate (per row or scalar) are dropped.

    Args:
        cost: (R, N) float; entries ≥ :data:`INFEASIBLE` are never matched.
        gate: scalar or (R,) per-row gate.
    """
    from scipy.optimize import linear_sum_assignment

    if cost.size == 0:
        return []
    g = np.broadcast_to(np.asarray(gate, np.float64).reshape(-1, 1), cost.shape)
    c = np.where(cost > g, INFEASIBLE, cost)
    rows, cols = linear_sum_assignment(c)
    return [(int(r), int(k)) for r, k in zip(rows, cols, strict=True) if c[r, k] < INFEASIBLE]


class IdentityTracker:
    """Assign stable ids to observations frame by frame (see the module docstring).

    Args:
        size_hw: (H, W) of the frames (scales 2D distances).
        options: :class:`TrackOptions`.
        fixed_ids: when given, exactly these identities exist from the start (e.g. characters)
            and no new ones are created; unmatched observations get −1.
    """

    def __init__(
        self,
        size_hw: tuple[int, int],
        options: TrackOptions = TrackOptions(),  # noqa: B008 - frozen dataclass
        fixed_ids: Sequence[int] | None = None,
    ) -> None:
        self.size_hw = (int(size_hw[0]), int(size_hw[1]))
        self.diag = float(np.hypot(*self.size_hw))
        self.options = options
        self.fixed = fixed_ids is not None
        self.frame = -1
        self.next_id = 0
        self.tracks: list[_Track] = []
        if fixed_ids is not None:
            ids = [int(i) for i in fixed_ids]
            if len(set(ids)) != len(ids):
                raise InputError(f"IdentityTracker: duplicate fixed ids {ids}")
            self.tracks = [_Track(i, last_frame=-1) for i in ids]
            self.next_id = max(ids, default=-1) + 1

    @property
    def track_ids(self) -> list[int]:
        """Ids of the live (not retired) tracks, in creation order."""
        return [t.track_id for t in self.tracks]

    def _predict(self, tr: _Track, gap: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        k = sum(self.options.velocity_damping**i for i in range(1, gap + 1))
        c = tr.center
        if c is not None and tr.vel2d is not None:
            c = c + tr.vel2d * k
        p = tr.pelvis
        if p is not None and tr.vel3d is not None:
            p = p + tr.vel3d * k
        return c, p

    def _pair_cost(self, tr: _Track, ob: Observation, gap: int) -> float:
        o = self.options
        total = weight = 0.0
        if o.overlap_weight > 0:
            if tr.mask is not None and ob.mask is not None:
                total += o.overlap_weight * (1.0 - mask_iou(tr.mask, ob.mask))
                weight += o.overlap_weight
            elif tr.box is not None and ob.box_xyxy is not None:
                total += o.overlap_weight * (1.0 - box_iou(tr.box, ob.box_xyxy))
                weight += o.overlap_weight
        c, p = self._predict(tr, gap)
        if o.dist2d_weight > 0 and c is not None and ob.center_xy is not None:
            d = float(np.linalg.norm(c - ob.center_xy)) / self.diag * 4.0
            total += o.dist2d_weight * d
            weight += o.dist2d_weight
        if o.dist3d_weight > 0 and p is not None and ob.joints_mm is not None:
            d = float(np.linalg.norm(p - ob.joints_mm[_PELVIS])) / 1000.0
            total += o.dist3d_weight * d
            weight += o.dist3d_weight
        return total / weight if weight > 0 else 0.0

    def update(
        self, observations: Sequence[Observation], extra_cost: np.ndarray | None = None
    ) -> np.ndarray:
        """Advance one frame and return the id of each observation ((N,) int32, −1 = none).

        Args:
            observations: this frame's people.
            extra_cost: optional (num tracks, N) costs in [0, 1] (order of :attr:`track_ids`;
                entries ≥ :data:`INFEASIBLE` forbid a pair), averaged in with ``extra_weight``.
                A track that has never been seen is matched on this cost alone.
        """
        self.frame += 1
        n = len(observations)
        o = self.options
        if extra_cost is not None:
            extra_cost = np.asarray(extra_cost, np.float64)
            if extra_cost.shape != (len(self.tracks), n):
                raise InputError(
                    f"extra_cost: expected shape ({len(self.tracks)}, {n}), got {extra_cost.shape}"
                )
        cost = np.zeros((len(self.tracks), n))
        gate = np.zeros((len(self.tracks),))
        for i, tr in enumerate(self.tracks):
            gap = self.frame - tr.last_frame if tr.last_frame >= 0 else 1
            gate[i] = o.max_cost + o.gap_relax * (gap - 1)
            for j, ob in enumerate(observations):
                seen = tr.last_frame >= 0
                base = self._pair_cost(tr, ob, gap) if seen else 0.0
                if extra_cost is None:
                    cost[i, j] = base if seen else INFEASIBLE
                    continue
                e = extra_cost[i, j]
                if e >= INFEASIBLE:
                    cost[i, j] = INFEASIBLE
                elif seen:
                    cue_w = self._cue_weight(tr, ob)
                    cost[i, j] = (base * cue_w + o.extra_weight * e) / (cue_w + o.extra_weight)
                else:
                    cost[i, j] = e
        ids = np.full((n,), -1, np.int32)
        pairs = match(cost, gate)
        full = self.fixed or (o.max_ids is not None and self.next_id >= o.max_ids)
        if full and len(pairs) < min(len(self.tracks), n):
            # Every identity already exists, so an unmatched person can only be one of the
            # unmatched (e.g. long-occluded) tracks: match those by elimination, ungated.
            used_r = {i for i, _ in pairs}
            used_c = {j for _, j in pairs}
            free_r = [i for i in range(len(self.tracks)) if i not in used_r]
            free_c = [j for j in range(n) if j not in used_c]
            sub = cost[np.ix_(free_r, free_c)]
            pairs += [(free_r[a], free_c[b]) for a, b in match(sub, INFEASIBLE / 2)]
        for i, j in pairs:
            ids[j] = self.tracks[i].track_id
            self._absorb(self.tracks[i], observations[j])
        if not self.fixed:
            for j in np.flatnonzero(ids < 0):
                if o.max_ids is not None and self.next_id >= o.max_ids:
                    break
                tr = _Track(self.next_id, last_frame=-1)
                self.next_id += 1
                self._absorb(tr, observations[j])
                self.tracks.append(tr)
                ids[j] = tr.track_id
            if o.max_ids is None:  # with a cap, ids stay reserved for good
                self.tracks = [
                    t for t in self.tracks if self.frame - t.last_frame <= o.max_missing_frames
                ]
        return ids

    def _cue_weight(self, tr: _Track, ob: Observation) -> float:
        o = self.options
        w = 0.0
        if (tr.mask is not None and ob.mask is not None) or (
            tr.box is not None and ob.box_xyxy is not None
        ):
            w += o.overlap_weight
        if tr.center is not None and ob.center_xy is not None:
            w += o.dist2d_weight
        if tr.pelvis is not None and ob.joints_mm is not None:
            w += o.dist3d_weight
        return w

    def _absorb(self, tr: _Track, ob: Observation) -> None:
        gap = self.frame - tr.last_frame if tr.last_frame >= 0 else 0
        if ob.center_xy is not None:
            c = np.asarray(ob.center_xy, np.float64)
            if tr.center is not None and gap > 0:
                tr.vel2d = (c - tr.center) / gap
            tr.center = c
        if ob.joints_mm is not None:
            p = np.asarray(ob.joints_mm, np.float64)[_PELVIS]
            if tr.pelvis is not None and gap > 0:
                tr.vel3d = (p - tr.pelvis) / gap
            tr.pelvis = p
        if ob.box_xyxy is not None:
            tr.box = np.asarray(ob.box_xyxy, np.float64)
        if ob.mask is not None:
            tr.mask = ob.mask
        tr.last_frame = self.frame


def track_pose3d(
    frames: Sequence[Pose3D],
    size_hw: tuple[int, int],
    options: TrackOptions = TrackOptions(overlap_weight=0.0),  # noqa: B008 - frozen dataclass
    max_people: int | None = None,
) -> list[Pose3D]:
    """Give every present 3D person a stable ``track_id`` (e.g. ``lift_full_frames`` output).

    Matching uses the pelvis position (3D) and its projection with the FOV camera (2D). Each
    returned frame has one slot per live identity, ordered by id: ``present`` False and zero
    joints for identities missing in that frame. Persons beyond ``max_people`` are dropped.
    """
    from .types import Camera

    cam = Camera.from_fov(size_hw)
    opts = replace(options, max_ids=max_people) if max_people is not None else options
    tracker = IdentityTracker(size_hw, opts)
    per_frame: list[dict[int, np.ndarray]] = []
    for f in frames:
        obs = [
            Observation(center_xy=cam.project(f.joints_mm[p, _PELVIS]), joints_mm=f.joints_mm[p])
            for p in range(f.num_people)
            if f.present[p]
        ]
        rows = [p for p in range(f.num_people) if f.present[p]]
        ids = tracker.update(obs)
        per_frame.append({int(i): f.joints_mm[r] for r, i in zip(rows, ids, strict=True) if i >= 0})
    all_ids = sorted({i for d in per_frame for i in d})
    out = []
    for d in per_frame:
        joints = np.zeros((len(all_ids), 24, 3), np.float32)
        present = np.zeros((len(all_ids),), bool)
        for k, i in enumerate(all_ids):
            if i in d:
                joints[k], present[k] = d[i], True
        out.append(Pose3D(joints, present, np.asarray(all_ids, np.int32)))
    return out
