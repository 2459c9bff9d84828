"""Per-character masks: the container, SAM2 segmentation into it, and masks from elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InputError
from ..runtime import CancelFn, ProgressFn
from ..tracking import IdentityTracker, Observation, TrackOptions, mask_box
from ..types import PoseFrame
from .prompts import CharacterPrompt, choose_characters

LOGGER = logging.getLogger("scail_pose")


@dataclass(frozen=True)
class SegmentOptions:
    """How characters are chosen and segmented.

    Attributes:
        max_characters: the N largest people of the start frame become characters (reference:
            2). Ignored when ``person_indices`` is given.
        person_indices: explicit person rows (detector order) of the start frame.
        start_frame: frame to choose on; default: the first frame with a person.
        additions: ``(frame_index, person_index)`` pairs: characters entering later.
        chunk_size: frames per propagation chunk (memory does not grow with the video).
        offload_state_to_cpu: keep SAM2's per-frame memories on the CPU (saves VRAM).
    """

    max_characters: int = 2
    person_indices: tuple[int, ...] | None = None
    start_frame: int | None = None
    additions: tuple[tuple[int, int], ...] = ()
    chunk_size: int = 32
    offload_state_to_cpu: bool = False

    def __post_init__(self) -> None:
        if self.person_indices is None and self.max_characters < 1:
            raise InputError(
                f"SegmentOptions.max_characters must be >= 1, got {self.max_characters}"
            )
        if self.chunk_size < 1:
            raise InputError(f"SegmentOptions.chunk_size must be >= 1, got {self.chunk_size}")


@dataclass(frozen=True)
class CharacterMasks:
    """One boolean mask per character per frame.

    Fields:
        masks: (T, C, H, W) bool; column c belongs to ``character_ids[c]``.
        character_ids: (C,) int32, ascending; the id a character keeps (its palette index).
        source: "sam2" or "external" (free text).
        prompts: the SAM2 prompts used (empty for external masks).
    """

    masks: np.ndarray
    character_ids: np.ndarray
    source: str = "sam2"
    prompts: tuple[CharacterPrompt, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        m = np.asarray(self.masks)
        if m.ndim != 4:
            raise InputError(f"CharacterMasks.masks: expected (T, C, H, W), got {m.shape}")
        if m.dtype != bool:
            m = m.astype(bool)
        ids = np.asarray(self.character_ids, np.int32).reshape(-1)
        if ids.shape[0] != m.shape[1]:
            raise InputError(
                f"CharacterMasks: {m.shape[1]} mask columns but {ids.shape[0]} character ids"
            )
        if ids.shape[0] == 0:
            raise InputError(
                "CharacterMasks: zero characters; segment at least one person (or give one mask)"
            )
        if len(set(ids.tolist())) != ids.shape[0]:
            raise InputError(f"CharacterMasks: duplicate character ids {ids.tolist()}")
        m.setflags(write=False)
        ids.setflags(write=False)
        object.__setattr__(self, "masks", m)
        object.__setattr__(self, "character_ids", ids)
        object.__setattr__(self, "prompts", tuple(self.prompts))

    @property
    def num_frames(self) -> int:
        return int(self.masks.shape[0])

    @property
    def num_characters(self) -> int:
        return int(self.masks.shape[1])

    @property
    def size_hw(self) -> tuple[int, int]:
        return int(self.masks.shape[2]), int(self.masks.shape[3])

    def present(self) -> np.ndarray:
        """(T, C) bool: the character has at least one mask pixel in the frame."""
        return self.masks.any(axis=(2, 3))


def _frame_count_hw(frames) -> tuple[int, int, int]:
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise InputError(f"frames: expected (T, H, W, 3) uint8 RGB, got {frames.shape}")
        return int(frames.shape[0]), int(frames.shape[1]), int(frames.shape[2])
    if not hasattr(frames, "__len__"):
        raise InputError(
            "frames: expected a (T, H, W, 3) uint8 array or a sequence of (H, W, 3) frames"
        )
    f0 = np.asarray(frames[0])
    return len(frames), int(f0.shape[0]), int(f0.shape[1])


def segment_characters(
    frames,
    poses: PoseFrame | Sequence[PoseFrame],
    segmenter,
    options: SegmentOptions = SegmentOptions(),  # noqa: B008 - frozen dataclass
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
    out: np.ndarray | None = None,
) -> CharacterMasks:
    """Choose the characters and track their masks through the video with SAM 2.1.

    Args:
        frames: (T, H, W, 3) uint8 RGB, or an indexable sequence of (H, W, 3) uint8 frames.
        poses: ``detect_poses`` output for these frames, or only the PoseFrame of frame 0.
            2D poses are normalised to these frames; boxes are pixels.
        segmenter: a :class:`~scail_pose_core.segment.sam2.Sam2Segmenter`.
        options: :class:`SegmentOptions`.
        out: optional preallocated (T, C, H, W) bool array to write the masks into, e.g. a
            disk-backed ``np.lib.format.open_memmap`` for long high-resolution videos (the
            masks of 1,000 frames at 1080p for 2 characters take 4 GB as bool in RAM).

    Returns:
        :class:`CharacterMasks` with ids 0..C-1 (0 = largest person of the start frame).

    Raises:
        InputError: nobody to prompt, an index out of range, malformed frames.
        OptionalDependencyError: ``sam2`` is not installed.
    """
    n, h, w = _frame_count_hw(frames)
    prompts = choose_characters(
        poses,
        (h, w),
        num_characters=options.max_characters,
        indices=options.person_indices,
        start_frame=options.start_frame,
        additions=options.additions,
    )
    shape = (n, len(prompts), h, w)
    if out is None:
        out = np.zeros(shape, bool)
    elif out.shape != shape or out.dtype != bool:
        raise InputError(
            f"segment_characters: 'out' must be a bool array of shape {shape}, got "
            f"{out.dtype} {out.shape}"
        )
    for start, chunk in segmenter.track(
        frames,
        prompts,
        chunk_size=options.chunk_size,
        offload_state_to_cpu=options.offload_state_to_cpu,
        progress=progress,
        check_cancel=check_cancel,
    ):
        out[start : start + chunk.shape[0]] = chunk
    ids = np.array([p.character_id for p in prompts], np.int32)
    return CharacterMasks(out, ids, source="sam2", prompts=tuple(prompts))


def masks_from_external(
    masks,
    size_hw: tuple[int, int] | None = None,
    num_frames: int | None = None,
    character_ids: Sequence[int] | None = None,
    relabel: bool = False,
    track_options: TrackOptions = TrackOptions(dist3d_weight=0.0),  # noqa: B008
) -> CharacterMasks:
    """Build :class:`CharacterMasks` from masks made by another tool (e.g. SAM3 video nodes).

    Args:
        masks: one of
            * (T, H, W) integer label map: 0 = background, each positive value a character
              (ids = sorted labels − 1, unless ``character_ids`` is given);
            * (T, H, W) bool/float: a single character (float masks are thresholded at 0.5);
            * (T, C, H, W) bool/float: C characters;
            * a list of C arrays (T, H, W): one per character.
        size_hw: expected (H, W) (the video's frame size); checked when given.
        num_frames: expected T; checked when given.
        character_ids: ids for the C columns (default 0..C-1).
        relabel: the columns are *per-frame* instances without consistent identity (e.g.
            per-frame detections): re-order them frame by frame with :class:`IdentityTracker`
            (mask IoU + centre motion) so that column c is the same person in every frame.
        track_options: options of that tracker.

    Raises:
        InputError: wrong rank, size or frame count, zero characters, mismatched list entries.
    """
    if isinstance(masks, (list, tuple)):
        if not masks:
            raise InputError("masks_from_external: got an empty list; give one mask per character")
        arrs = [np.asarray(m) for m in masks]
        for i, a in enumerate(arrs):
            if a.ndim != 3 or a.shape != arrs[0].shape:
                raise InputError(
                    f"masks_from_external: character {i} mask is {a.shape}; every character "
                    f"needs (T, H, W) like character 0 {arrs[0].shape}"
                )
        m = np.stack([_binarize(a) for a in arrs], axis=1)
    else:
        a = np.asarray(masks)
        if (
            a.ndim == 3
            and np.issubdtype(a.dtype, np.integer)
            and a.dtype != bool
            and a.max(initial=0) > 1
        ):
            labels = np.unique(a)
            labels = labels[labels > 0]
            m = np.stack([a == v for v in labels], axis=1)
            if character_ids is None:
                character_ids = [int(v) - 1 for v in labels]
        elif a.ndim == 3:
            m = _binarize(a)[:, None]
        elif a.ndim == 4:
            m = _binarize(a)
        else:
            raise InputError(
                "masks_from_external: expected (T, H, W) or (T, C, H, W) masks or a list of "
                f"(T, H, W), got shape {a.shape}"
            )
    t, c, h, w = m.shape
    if c == 0:
        raise InputError("masks_from_external: zero characters (no mask columns / labels)")
    if t == 0:
        raise InputError("masks_from_external: zero frames")
    if size_hw is not None and (h, w) != (int(size_hw[0]), int(size_hw[1])):
        raise InputError(
            f"masks_from_external: masks are {h}x{w} (HxW) but the video frames are "
            f"{int(size_hw[0])}x{int(size_hw[1])}; resize the masks to the frame size (nearest) "
            "or run the segmenter on the same frames"
        )
    if num_frames is not None and t != int(num_frames):
        raise InputError(
            f"masks_from_external: {t} mask frames but the video has {int(num_frames)} frames; "
            "give exactly one mask per frame"
        )
    if relabel:
        m = relabel_instances(m, track_options)
    ids = list(range(c)) if character_ids is None else [int(i) for i in character_ids]
    if len(ids) != c:
        raise InputError(f"masks_from_external: {c} characters but {len(ids)} character_ids")
    order = np.argsort(ids, kind="stable")
    empty = [k for k in range(c) if not any(m[s : s + 64, k].any() for s in range(0, t, 64))]
    for k in empty:
        LOGGER.warning("character %d has an empty mask in every frame: it will be absent", ids[k])
    if np.array_equal(order, np.arange(c)):
        ordered = m  # no copy: a disk-backed (memmap) mask array stays on disk
    else:
        ordered = m[:, order]
    return CharacterMasks(ordered, np.asarray(ids, np.int32)[order], source="external")


def _binarize(a: np.ndarray) -> np.ndarray:
    if a.dtype == bool:
        return a
    if np.issubdtype(a.dtype, np.floating):
        return a > 0.5
    return a > 0


def relabel_instances(
    masks: np.ndarray,
    options: TrackOptions = TrackOptions(dist3d_weight=0.0),  # noqa: B008
) -> np.ndarray:
    """Reorder per-frame instance masks (T, N, H, W) into consistent identities (T, C, H, W).

    Identities are created in order of first appearance; C = the number of identities found
    (at most N unless ``options.max_ids`` says otherwise). With the cap reached, a person who
    re-appears far from where they vanished is matched by elimination. Empty slots are ignored.
    """
    t, n, h, w = masks.shape
    if options.max_ids is None:  # at most one identity per column: enables re-identification
        options = replace(options, max_ids=n)
    tracker = IdentityTracker((h, w), options)
    frames: list[list[tuple[int, int]]] = []
    step = max(1, int(np.ceil(max(h, w) / 256)))  # IoU on a ≤256-px grid: fast, same ranking
    for f in range(t):
        obs, cols = [], []
        for k in range(n):
            mk = masks[f, k]
            box = mask_box(mk)
            if box is None:
                continue
            ys, xs = np.nonzero(mk[::step, ::step])
            center = (
                np.array([xs.mean(), ys.mean()]) * step
                if xs.size
                else np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
            )
            obs.append(Observation(box_xyxy=box, mask=mk[::step, ::step], center_xy=center))
            cols.append(k)
        ids = tracker.update(obs)
        frames.append([(int(i), k) for i, k in zip(ids, cols, strict=True) if i >= 0])
    num = max((i for fr in frames for i, _ in fr), default=-1) + 1
    out = np.zeros((t, num, h, w), bool)
    for f, fr in enumerate(frames):
        for i, k in fr:
            out[f, i] = masks[f, k]
    return out
