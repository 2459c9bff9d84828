"""The two end-to-end jobs of the reference, streamed: video in → pose sequence + rendered video.

* :func:`run_single` — the single-person job (reference_spec.md §1): orientation from the
  driving video, the same resize + centre crop for the video and the reference image, YOLOX
  boxes, DWPose 2D, NLF 3D in those boxes, optional retargeting to the reference image, then the
  cylinder render.
* :func:`run_multi` — the multi-character job (§7): native resolution by default, SAM2 masks
  per character prompted on the first frame, per-character NLF with identity tracking, one
  union render with the two-person palettes.

Memory is bounded for long videos: the video is read in chunks of ``chunk_size`` frames; each
chunk is resized/cropped, goes through 2D and 3D, and only the small per-frame pose data is
kept. Rendering also runs in chunks straight into the mp4 writer (or is handed to the caller as
a lazy iterator of frames). The multi job needs the frames of the whole clip for SAM2 (its
video predictor tracks over the clip) and is therefore bounded by the clip, not by the chunk.

Deliberate differences from the reference (§10): a frame 0 without a person does not crash;
frames where nobody is detected render black (no 2D overlay from the full-image fallback);
a video where nobody is found at all raises :class:`InputError`.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .geometry.crop import DEFAULT_RESOLUTION, CropGeometry, plan_resize_crop, target_size_for
from .media.frames import as_rgb_chunk
from .render.output import FRAMES_4N1, OUTPUT_SIZES, frame_count_4n1
from .runtime import CancelFn, ProgressFn
from .segment.sam2 import SAM2_SIZES
from .types import Detections, Pose2D, Pose3D, PoseFrame, PoseSequence

LOGGER = logging.getLogger("scail_pose")

RETARGET_MODES = ("none", "camera_fit", "bone_lengths")
FRAME_COUNT_POLICIES = ("none", "reference_api")
CROP_MODES = ("auto", "target", "native")
OVERLAY_PEOPLE = ("all", "first")
#: The weight names (scail_pose_core.weights) of the SAM 2.1 sizes of :mod:`.segment`.
SAM2_MODELS = tuple(f"sam2.1_{size}" for size in SAM2_SIZES)

__all__ = [
    "CROP_MODES", "FRAME_COUNT_POLICIES", "FRAMES_4N1", "OUTPUT_SIZES", "OVERLAY_PEOPLE",
    "RETARGET_MODES", "SAM2_MODELS", "PipelineModels", "PipelineOptions", "PipelineResult",
    "frame_indices_for_policy", "load_reference_image", "open_video_source", "rgba_to_rgb",
    "run_multi", "run_single", "sequence_fps",
]  # fmt: skip

#: Frame counts of the reference service (§8): shortest accepted clip and the two lengths it keeps.
API_MIN_FRAMES = 65
API_LONG_FRAMES = 81

VideoInput = str | Path | np.ndarray | Iterable[np.ndarray]
ImageInput = str | Path | np.ndarray


# --------------------------------------------------------------------------------------------
# options, models, result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineOptions:
    """Options of both jobs (defaults = the reference CLI, except where noted).

    Fields:
        resolution: (short, long) target pair; orientation comes from the driving video
            (§1.2): landscape → (512, 896) as (H, W), portrait or square → (896, 512).
        retarget: ``"none"`` (reference default on the CLI), ``"camera_fit"`` (the reference's
            ``--use_align``: fit K_new to the reference image, §6) or ``"bone_lengths"``.
        multi: run the multi-character job (:func:`run_multi`) instead of the single one.
        fps: output frames per second (the reference always writes 16, whatever the input).
        output_size: ``"full"`` (reference) or ``"half"`` (the ComfyUI ports' half size).
        frames_4n1: make the rendered frame count 4n+1 (SCAIL's VAE): ``"none"``, ``"trim"``
            (drop the last frames) or ``"pad"`` (repeat the last frame).
        frame_count_policy: ``"none"`` keeps every frame; ``"reference_api"`` applies the
            reference service's normalisation (§8): < 65 frames → error, 65–80 → 65 frames
            sampled evenly, 81–95 → the first 81, ≥ 96 → 81 sampled evenly.
        crop: ``"auto"`` = resize + centre crop to the target for the single job and native
            resolution for the multi job (as the reference); ``"target"`` / ``"native"`` force it.
        overlay_people: whose 2D face/hands are drawn in the single job without retargeting:
            ``"all"`` people found (reference §10.4) or only the ``"first"`` (the rendered one).
        max_characters: characters tracked by the multi job (the reference: 2).
        chunk_size: frames per chunk for reading, 2D/3D and rendering.
        device: ``"auto"``, ``"cpu"`` or ``"cuda[:N]"`` for NLF, SAM2 and the renderer.
        render_backend: the renderer backend (``"auto"``, ``"torch"``, ``"nvdiffrast"``).
    """

    resolution: tuple[int, int] = DEFAULT_RESOLUTION
    retarget: str = "none"
    multi: bool = False
    fps: float = 16.0
    output_size: str = "full"
    frames_4n1: str = "none"
    frame_count_policy: str = "none"
    crop: str = "auto"
    overlay_people: str = "all"
    max_characters: int = 2
    chunk_size: int = 32
    device: str = "auto"
    render_backend: str = "auto"

    def __post_init__(self) -> None:
        def one_of(name: str, value: object, allowed: Sequence[object]) -> None:
            if value not in allowed:
                raise InputError(
                    f"PipelineOptions.{name}={value!r} is not one of {', '.join(map(str, allowed))}"
                )

        one_of("retarget", self.retarget, RETARGET_MODES)
        one_of("output_size", self.output_size, OUTPUT_SIZES)
        one_of("frames_4n1", self.frames_4n1, FRAMES_4N1)
        one_of("frame_count_policy", self.frame_count_policy, FRAME_COUNT_POLICIES)
        one_of("crop", self.crop, CROP_MODES)
        one_of("overlay_people", self.overlay_people, OVERLAY_PEOPLE)
        res = tuple(int(v) for v in self.resolution)
        if len(res) != 2 or min(res) < 16 or any(v % 2 for v in res):
            raise InputError(
                f"PipelineOptions.resolution={self.resolution!r}: expected two even sizes ≥ 16, "
                "e.g. (512, 896)"
            )
        object.__setattr__(self, "resolution", res)
        if not (float(self.fps) > 0):
            raise InputError(f"PipelineOptions.fps must be > 0, got {self.fps}")
        if int(self.chunk_size) < 1:
            raise InputError(f"PipelineOptions.chunk_size must be ≥ 1, got {self.chunk_size}")
        if int(self.max_characters) < 1:
            raise InputError(
                f"PipelineOptions.max_characters must be ≥ 1, got {self.max_characters}"
            )

    def uses_native_size(self) -> bool:
        return self.crop == "native" or (self.crop == "auto" and self.multi)


@dataclass
class PipelineModels:
    """The loaded models a job needs (loaded once, reused across videos).

    Fields:
        detector: a ``YoloxDetector`` (person boxes).
        estimator: a ``DWPoseEstimator`` (whole-body 2D in those boxes).
        nlf: an ``NLFModel`` (3D lifting).
        segmenter: a ``Sam2Segmenter`` (multi job only).
    """

    detector: Any
    estimator: Any
    nlf: Any
    segmenter: Any | None = None

    @classmethod
    def load(
        cls,
        models_dir: str | Path | Sequence[str | Path] | None = None,
        device: str = "auto",
        multi: bool = False,
        sam2_model: str = "sam2.1_large",
        allow_download: bool = False,
        progress: ProgressFn | None = None,
    ) -> PipelineModels:
        """Find (and, only with ``allow_download``, fetch) the weights and load them.

        Raises:
            MissingWeightsError: a file is missing (lists every place searched and how to get it).
        """
        from .weights import resolve_weight

        if sam2_model not in SAM2_MODELS:
            raise InputError(f"sam2_model={sam2_model!r} is not one of {', '.join(SAM2_MODELS)}")
        if models_dir is None:
            dirs: tuple[Path, ...] = ()
        elif isinstance(models_dir, (str, Path)):
            dirs = (Path(models_dir),)
        else:
            dirs = tuple(Path(d) for d in models_dir)
        names = ["yolox_l", "dwpose", "nlf"] + ([sam2_model] if multi else [])
        # Resolve every file first, so a missing one is reported before anything slow loads.
        paths = {
            n: resolve_weight(n, search_dirs=dirs, allow_download=allow_download, progress=progress)
            for n in names
        }
        from .detection import YoloxDetector
        from .lift3d import load_nlf
        from .onnx_session import providers_for_device
        from .pose2d import DWPoseEstimator

        providers = providers_for_device(str(device))
        detector = YoloxDetector.from_path(paths["yolox_l"], providers=providers)
        estimator = DWPoseEstimator.from_path(paths["dwpose"], providers=providers)
        nlf = load_nlf(paths["nlf"], device=device)
        segmenter = None
        if multi:
            from .segment import Sam2Segmenter

            segmenter = Sam2Segmenter.from_path(paths[sam2_model], device=device)
        return cls(detector=detector, estimator=estimator, nlf=nlf, segmenter=segmenter)


@dataclass
class PipelineResult:
    """What a job returns.

    Fields:
        sequence: the extracted (and possibly retargeted) poses, one frame per kept input frame,
            measured at ``sequence.size_hw``; ``sequence.meta`` records the source, the options
            and the kept frame indices.
        output_path: the written mp4, or None when no output path was given.
        frames: when no output path was given, a lazy iterator of rendered uint8 RGB chunks
            (t, H, W, 3); rendering happens as it is consumed. None otherwise.
        frame_count: rendered frames written (0 while ``frames`` has not been consumed).
        size_hw: (H, W) of the rendered frames.
        fps: frames per second of the rendered video.
        stats: seconds and frames per stage (``"read"``, ``"extract"``, ``"retarget"``,
            ``"render"``, ...).
    """

    sequence: PoseSequence
    output_path: Path | None
    frames: Iterator[np.ndarray] | None
    frame_count: int
    size_hw: tuple[int, int]
    fps: float
    stats: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# frame-count policy (§8)
# --------------------------------------------------------------------------------------------


def frame_indices_for_policy(frame_count: int, policy: str = "none") -> np.ndarray:
    """Indices of the source frames a job keeps (ascending, int64).

    ``"none"``: all ``frame_count`` frames. ``"reference_api"`` (§8): fewer than 65 frames →
    :class:`InputError`; 65–80 → 65 frames at ``int(linspace(0, n−1, 65))``; 81–95 → the first
    81; 96 or more → 81 frames at ``int(linspace(0, n−1, 81))``. (The service keeps the source
    fps for 81–95-frame clips in its re-encoded copy, but the rendered video is always written
    at the job's fps — §10.10 — so only the indices matter here.)
    """
    n = int(frame_count)
    if n <= 0:
        raise InputError(f"the video has no frames (frame count {n}); use a video with frames")
    if policy == "none":
        return np.arange(n, dtype=np.int64)
    if policy != "reference_api":
        raise InputError(
            f"frame_count_policy={policy!r} is not one of {', '.join(FRAME_COUNT_POLICIES)}"
        )
    if n < API_MIN_FRAMES:
        raise InputError(
            f"the video has {n} frames but the reference_api frame-count policy needs at least "
            f"{API_MIN_FRAMES}; use a longer clip or frame_count_policy 'none'"
        )
    if n <= 80:
        return np.linspace(0, n - 1, API_MIN_FRAMES).astype(np.int64)
    if n <= 95:
        return np.arange(API_LONG_FRAMES, dtype=np.int64)
    return np.linspace(0, n - 1, API_LONG_FRAMES).astype(np.int64)


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


@dataclass
class _VideoSource:
    """A video given as a file, one array, or an iterable of chunks; read in chunks.

    ``frame_count`` is 0 when unknown (an iterable of chunks without a ``num_frames`` hint).
    Every chunk is validated (uint8 RGB, the first chunk's frame size) as it is read, and an
    iterable that yields more frames than its hint raises :class:`InputError`.
    """

    size_hw: tuple[int, int]
    frame_count: int
    fps: float | None
    name: str
    _path: Path | None = None
    _array: np.ndarray | None = None
    _chunks: Iterable[np.ndarray] | None = None
    _first: np.ndarray | None = None
    _hinted: bool = False

    def chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        seen = 0
        for chunk in self._raw_chunks(chunk_size):
            if tuple(chunk.shape[1:3]) != tuple(self.size_hw):
                raise InputError(
                    f"{self.name}: frame size changed from {tuple(self.size_hw)} to "
                    f"{tuple(chunk.shape[1:3])} mid-video; re-encode the video at one size"
                )
            seen += int(chunk.shape[0])
            if self._hinted and seen > self.frame_count:
                raise InputError(
                    f"{self.name}: num_frames={self.frame_count} was given but the chunks hold "
                    f"more frames ({seen} so far); pass the true frame count or None"
                )
            yield chunk

    def _raw_chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        if self._path is not None:
            from .media.video import iter_video_chunks

            yield from iter_video_chunks(self._path, chunk_size=chunk_size)
        elif self._array is not None:
            for s in range(0, self._array.shape[0], chunk_size):
                yield self._array[s : s + chunk_size]
        else:
            if self._chunks is None or self._first is None:
                raise InputError(f"{self.name}: the chunk iterable was already consumed")
            first, self._first = self._first, None
            yield first
            for c in self._chunks:
                yield as_rgb_chunk(c, self.name)


def open_video_source(video: VideoInput, num_frames: int | None = None) -> _VideoSource:
    """Validate a video input without decoding it all (files are probed, not read).

    Args:
        video: a video file, a uint8 RGB array (T, H, W, 3), or an iterable of such chunks.
        num_frames: the frame count of an iterable of chunks when the caller knows it (e.g. a
            ComfyUI IMAGE batch converted lazily): progress then has a real total and the
            ``reference_api`` policy can pick its frames. Ignored for files and arrays (their
            count is known); an iterable yielding more frames raises :class:`InputError`.
    """
    if isinstance(video, (str, Path)):
        from .media.video import probe_video

        info = probe_video(video)
        return _VideoSource(
            size_hw=tuple(info.size_hw), frame_count=int(info.frame_count), fps=float(info.fps),
            name=str(video), _path=Path(video),
        )  # fmt: skip
    if isinstance(video, np.ndarray):
        a = as_rgb_chunk(video, "video")
        if a.shape[0] == 0:
            raise InputError("video: the frame array has zero frames; pass at least one frame")
        return _VideoSource(
            size_hw=(int(a.shape[1]), int(a.shape[2])), frame_count=int(a.shape[0]), fps=None,
            name="video array", _array=a,
        )  # fmt: skip
    if num_frames is not None and int(num_frames) < 1:
        raise InputError(f"num_frames must be ≥ 1 (or None when unknown), got {num_frames}")
    it = iter(video)
    first = next(it, None)
    if first is None:
        raise InputError("video: the chunk iterable yielded no frames; pass at least one frame")
    f = as_rgb_chunk(first, "video chunk")
    return _VideoSource(
        size_hw=(int(f.shape[1]), int(f.shape[2])),
        frame_count=int(num_frames) if num_frames is not None else 0, fps=None,
        name="video chunks", _chunks=it, _first=f, _hinted=num_frames is not None,
    )  # fmt: skip


def load_reference_image(ref_image: ImageInput) -> np.ndarray:
    """The reference image as uint8 RGB (H, W, 3); a path is read with alpha dropped."""
    if isinstance(ref_image, (str, Path)):
        from .media.image import read_image

        return read_image(ref_image)
    a = np.asarray(ref_image)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[-1] not in (3, 4):
        raise InputError(
            f"reference image: expected uint8 RGB (H, W, 3), got {a.dtype} {a.shape}; "
            "pass an image file or an RGB uint8 array"
        )
    return np.ascontiguousarray(a[..., :3])


# --------------------------------------------------------------------------------------------
# progress across stages
# --------------------------------------------------------------------------------------------


class _Progress:
    """One progress bar over the stages: each stage owns a share of ``total`` units."""

    def __init__(self, progress: ProgressFn | None, check_cancel: CancelFn | None, total: int):
        self.progress = progress
        self.check_cancel = check_cancel
        self.total = max(int(total), 1)
        self.done = 0

    def advance(self, n: int) -> None:
        self.done = min(self.done + int(n), self.total)
        if self.progress is not None:
            self.progress(self.done, self.total)
        self.cancel()

    def cancel(self) -> None:
        if self.check_cancel is not None:
            self.check_cancel()

    def finish(self) -> None:
        self.advance(self.total - self.done)


# --------------------------------------------------------------------------------------------
# the single-person job
# --------------------------------------------------------------------------------------------


def _select_in_chunk(
    chunk: np.ndarray, start: int, keep: np.ndarray | None
) -> tuple[np.ndarray, int]:
    """The frames of ``chunk`` (source indices start…) listed in ``keep`` (None: all)."""
    if keep is None:
        return chunk, chunk.shape[0]
    lo, hi = np.searchsorted(keep, [start, start + chunk.shape[0]])
    local = keep[lo:hi] - start
    # Repeated indices (linspace on a short clip never repeats, but stay safe) are kept.
    return chunk[local], int(local.shape[0])


_MALLOC_TRIM: Callable[[int], int] | None | bool = False  # False: not looked up yet


def _release_free_heap() -> None:
    """Hand the C heap's free pages back to the OS (glibc ``malloc_trim(0)``); no-op elsewhere.

    Called between chunks. Every chunk allocates and frees many 0.1–30 MB buffers (resized
    frames, YOLOX/DWPose/NLF inputs and outputs in numpy, onnxruntime and torch). After the
    first large block is freed, glibc raises its mmap threshold (up to 32 MB), so later buffers
    of that size come from the heap, whose free pages it keeps: the process's RSS then climbs
    by tens of MB per 1,000 frames (plateauing only after thousands) although nothing leaks.
    Trimming after each chunk keeps RSS flat; it costs about a millisecond per chunk.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is False:
        _MALLOC_TRIM = None
        if sys.platform.startswith("linux"):
            try:
                _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
                _MALLOC_TRIM.argtypes = [ctypes.c_size_t]
                _MALLOC_TRIM.restype = ctypes.c_int
            except (OSError, AttributeError):  # musl or another libc: nothing to trim
                _MALLOC_TRIM = None
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _single_person_frame(det: Detections, p2: Pose2D, p3: Pose3D, overlay_people: str) -> PoseFrame:
    """Reduce one frame to the single-person job's content (§1.4, no-align branch).

    Nobody detected → an empty frame (renders black). Otherwise the 3D of person 0 (the best
    box) when NLF found it, and the 2D of everyone (reference) or of person 0 only.
    """
    if len(det) == 0 or p2.num_people == 0:
        return PoseFrame(detections=det, pose2d=Pose2D.empty(), pose3d=Pose3D.empty())
    keep3 = [0] if p3.num_people > 0 and bool(p3.present[0]) else []
    pose3d = p3.select(keep3) if keep3 else Pose3D.empty()
    pose2d = p2 if overlay_people == "all" else p2.select([0])
    return PoseFrame(detections=det, pose2d=pose2d, pose3d=pose3d)


def _has_person(frame: PoseFrame) -> bool:
    p3 = frame.pose3d
    return p3 is not None and p3.num_people > 0 and bool(np.any(p3.present))


def _extract_chunk(
    frames: np.ndarray,
    models: PipelineModels,
    check_cancel: CancelFn | None,
    first_box_only: bool = True,
) -> list[tuple[Detections, Pose2D, Pose3D]]:
    """2D then 3D on one chunk of (already cropped) frames.

    With ``first_box_only`` NLF lifts only box 0 of each frame (the single job renders only
    person 0's 3D, §1.4; each box is lifted from its own masked image, so the others do not
    change it).
    """
    from .lift3d import lift_to_3d
    from .pose2d import DetectOptions, detect_poses

    pfs = detect_poses(
        frames,
        models.detector,
        models.estimator,
        DetectOptions(chunk_size=max(1, frames.shape[0])),
        check_cancel=check_cancel,
    )
    dets = [pf.detections if pf.detections is not None else Detections.empty() for pf in pfs]
    lift_dets = [Detections(d.boxes_xyxy[:1], d.scores[:1]) if first_box_only else d for d in dets]
    p3s = lift_to_3d(frames, lift_dets, models.nlf, check_cancel=check_cancel)
    if len(pfs) != frames.shape[0] or len(p3s) != frames.shape[0]:
        raise InputError(
            f"internal: a stage returned {len(pfs)} 2D / {len(p3s)} 3D results for "
            f"{frames.shape[0]} frames"
        )
    out = []
    for pf, det, p3 in zip(pfs, dets, p3s, strict=True):
        out.append((det, pf.pose2d if pf.pose2d is not None else Pose2D.empty(), p3))
    return out


def _reference_frame(
    ref_rgb: np.ndarray, target_hw: tuple[int, int], models: PipelineModels
) -> PoseFrame:
    """2D (+3D) of the reference image after the same resize/crop as the video (§1.2 step 4).

    Nobody in the image → an empty :class:`PoseFrame` (and a warning): retargeting then reports
    "no person in the reference" and keeps the unaligned camera, as issue 6 defines.
    """
    from .media.frames import resize_crop

    geom = plan_resize_crop(tuple(ref_rgb.shape[:2]), target_hw)
    img = resize_crop(ref_rgb[None], geom)
    ((det, p2, p3),) = _extract_chunk(img, models, None, first_box_only=False)
    if len(det) == 0 or p2.num_people == 0:
        LOGGER.warning(
            "no person was found in the reference image: the output will not be aligned to it "
            "(use a photo showing the whole character to align)"
        )
        return PoseFrame(
            detections=Detections.empty(), pose2d=Pose2D.empty(), pose3d=Pose3D.empty()
        )
    return PoseFrame(detections=det, pose2d=p2, pose3d=p3)


def rgba_to_rgb(rgba: object, output_size: str, full_hw: tuple[int, int]) -> np.ndarray:
    """A rendered RGBA chunk (t, H, W, 4) → uint8 RGB (t, h, w, 3) at the output size.

    ``rgba``: uint8 (or float in [0, 1]) numpy array or torch tensor; ``full_hw``: the full
    render size (H, W). The alpha channel is dropped (the reference's moviepy writer drops it
    too: RGB on black). Half size: bilinear, align_corners False, no antialias (SCAIL's
    ``smpl_downsample``), done here when the renderer returned full-size frames.
    """
    a = rgba.numpy() if hasattr(rgba, "numpy") and not isinstance(rgba, np.ndarray) else rgba
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = np.rint(np.clip(a.astype(np.float32) * 255.0, 0, 255)).astype(np.uint8)
    if output_size == "half" and tuple(a.shape[1:3]) == tuple(full_hw):
        from .media.frames import float_to_uint8
        from .render.output import rgba_to_image_mask

        img, _mask = rgba_to_image_mask(a, "half")
        return np.ascontiguousarray(float_to_uint8(img).numpy())
    return np.ascontiguousarray(a[..., :3])


def _render_chunks(
    seq: PoseSequence,
    options: PipelineOptions,
    palette: str,
    prog: _Progress,
    units: int,
    stats: dict,
) -> Iterator[np.ndarray]:
    """Rendered uint8 RGB chunks (t, H, W, 3), advancing ``units`` progress over the frames.

    4n+1: "trim" renders only the first frames, "pad" repeats the last rendered frame.
    """
    from .render import RenderOptions, iter_render_rgba

    n_out = frame_count_4n1(len(seq), options.frames_4n1)
    rseq = seq if n_out >= len(seq) else replace(seq, frames=seq.frames[:n_out])
    ropts = RenderOptions(
        backend=options.render_backend,
        device=options.device,
        output_size="full",
        frames_4n1="none",
        palette=palette,
        chunk_size=options.chunk_size,
    )
    t0 = time.perf_counter()
    n = 0
    per_frame = units / max(n_out, 1)
    reported = 0
    last = None
    for rgba in iter_render_rgba(rseq, ropts, check_cancel=prog.check_cancel):
        rgb = rgba_to_rgb(rgba, options.output_size, seq.size_hw)
        if rgb.shape[0] == 0:
            continue
        n += rgb.shape[0]
        last = rgb[-1:]
        target = min(units, int(round(n * per_frame)))
        prog.advance(target - reported)
        reported = target
        yield rgb
    if n < n_out and last is not None:
        yield np.repeat(last, n_out - n, axis=0)
        n = n_out
    prog.advance(units - reported)
    stats["render"] = {"seconds": time.perf_counter() - t0, "frames": n}


def _finish(
    seq: PoseSequence,
    options: PipelineOptions,
    palette: str,
    prog: _Progress,
    render_units: int,
    stats: dict,
    output: str | Path | None,
) -> PipelineResult:
    """Render (into ``output`` or lazily) and package the result."""
    h, w = seq.size_hw
    out_hw = (h // 2, w // 2) if options.output_size == "half" else (h, w)
    chunks = _render_chunks(seq, options, palette, prog, render_units, stats)
    if output is None:
        return PipelineResult(
            sequence=seq, output_path=None, frames=chunks, frame_count=0, size_hw=out_hw,
            fps=float(options.fps), stats=stats,
        )  # fmt: skip
    from .media.video import write_video

    counted = _Counter(chunks)
    path = write_video(output, counted, fps=float(options.fps))
    prog.finish()
    return PipelineResult(
        sequence=seq, output_path=Path(path), frames=None, frame_count=counted.frames,
        size_hw=counted.size_hw or out_hw, fps=float(options.fps), stats=stats,
    )  # fmt: skip


class _Counter:
    """Pass chunks through while counting frames and remembering the frame size."""

    def __init__(self, chunks: Iterable[np.ndarray]):
        self._chunks = chunks
        self.frames = 0
        self.size_hw: tuple[int, int] | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        for c in self._chunks:
            self.frames += int(c.shape[0])
            self.size_hw = (int(c.shape[1]), int(c.shape[2]))
            yield c


def _no_person_error(name: str, n: int) -> InputError:
    return InputError(
        f"no person was found in any of the {n} frames of {name}; use a video in which a "
        "person is clearly visible (ideally the whole body)"
    )


# --------------------------------------------------------------------------------------------
# shared by both jobs: geometry, frame policy, fps, meta
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What a job does with its video: working size, crop, kept frames, sequence fps."""

    target_hw: tuple[int, int]
    geom: CropGeometry
    identity: bool  # the crop is a no-op
    keep: np.ndarray | None  # source indices kept (None: all)
    expected: int  # frames the job will keep (0: unknown until read)
    seq_fps: float


def sequence_fps(source_fps: float, keep: np.ndarray | None) -> float:
    """Frames per second of the kept frames of a ``source_fps`` video.

    ``keep`` = the kept source indices (None: all). Even sampling (``reference_api``'s
    ``linspace``) stretches the time between kept frames by (last − first)/(count − 1) source
    frames, so the kept frames play at ``source_fps`` divided by that; consecutive frames keep
    ``source_fps``.
    """
    fps = float(source_fps)
    if keep is None or len(keep) < 2:
        return fps
    step = float(keep[-1] - keep[0]) / float(len(keep) - 1)
    return fps / step if step > 0 else fps


def _plan(src: _VideoSource, options: PipelineOptions, source_fps: float | None) -> _Plan:
    target_hw = (
        tuple(src.size_hw)
        if options.uses_native_size()
        else target_size_for(src.size_hw, options.resolution)
    )
    geom = plan_resize_crop(src.size_hw, target_hw)
    identity = geom.resized_hw == geom.in_hw and geom.target_hw == geom.in_hw
    keep = None
    expected = int(src.frame_count)
    if options.frame_count_policy != "none":
        if not src.frame_count:
            raise InputError(
                "frame_count_policy 'reference_api' needs to know the frame count: pass a video "
                "file, a frame array, or num_frames with the iterable of chunks"
            )
        keep = frame_indices_for_policy(src.frame_count, options.frame_count_policy)
        expected = int(keep.shape[0])
    fps = src.fps if src.fps else source_fps
    if fps is None or not fps > 0:
        fps = float(options.fps)  # frames given without a rate: take them as the output rate
    return _Plan(target_hw, geom, identity, keep, expected, sequence_fps(fps, keep))


def _sequence_meta(job: str, src: _VideoSource, plan: _Plan, options: PipelineOptions) -> dict:
    return {
        "job": job,
        "source": src.name,
        "source_fps": src.fps,
        "source_size_hw": list(src.size_hw),
        "frame_indices": plan.keep.tolist() if plan.keep is not None else None,
        "options": _options_meta(options),
    }


def _person0_only(frame: PoseFrame) -> PoseFrame:
    """``frame`` reduced to person 0 (2D, 3D and boxes), as the reference's align branch."""
    p2, p3, det = frame.pose2d, frame.pose3d, frame.detections
    if p2 is not None and p2.num_people > 1:
        p2 = p2.select([0])
    if p3 is not None and p3.num_people > 1:
        p3 = p3.select([0])
    if det is not None and len(det) > 1:
        det = Detections(det.boxes_xyxy[:1], det.scores[:1])
    return PoseFrame(detections=det, pose2d=p2, pose3d=p3)


def _unaligned_fallback(seq: PoseSequence, mode: str) -> PoseSequence:
    """A single-person retarget that was not applied: keep person 0 only (§1.4/§6.4) and say
    loudly that the "aligned" output is not aligned."""
    rep = dict(seq.meta.get("retarget") or {})
    if rep.get("applied"):
        return seq
    why = "; ".join(rep.get("warnings") or []) or "see meta['retarget']"
    LOGGER.warning(
        "retarget=%s was NOT applied, so this output is NOT aligned to the reference image "
        "(it uses the driving video's own camera): %s",
        mode, why,
    )  # fmt: skip
    rep["applied"] = False
    rep["kept_person0_only"] = True
    frames = tuple(_person0_only(f) for f in seq.frames)
    return replace(seq, frames=frames, meta={**seq.meta, "retarget": rep})


# --------------------------------------------------------------------------------------------
# the single-person job
# --------------------------------------------------------------------------------------------


def run_single(
    video: VideoInput,
    ref_image: ImageInput | None = None,
    models: PipelineModels | None = None,
    options: PipelineOptions = PipelineOptions(),  # noqa: B008 - frozen dataclass
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
    output: str | Path | None = None,
    num_frames: int | None = None,
    source_fps: float | None = None,
) -> PipelineResult:
    """The single-person job (reference_spec.md §1), streamed in chunks.

    Args:
        video: a video file, a uint8 RGB array (T, H, W, 3), or an iterable of such chunks.
        ref_image: the reference character image (file or uint8 RGB (H, W, 3)); required when
            ``options.retarget != "none"``, otherwise only validated.
        models: the loaded models (:meth:`PipelineModels.load`).
        options: :class:`PipelineOptions`.
        progress: ``progress(done, total)`` over all stages (units: extraction then rendering).
        check_cancel: raises to stop (between chunks).
        output: an ``.mp4`` path to write (atomically); None → ``result.frames`` renders lazily.
        num_frames: the frame count of an iterable of chunks, when known (progress totals and
            the ``reference_api`` policy need it); ignored for files and arrays.
        source_fps: frames per second of an array / iterable source (files carry their own);
            default ``options.fps``.

    Returns:
        :class:`PipelineResult`; ``sequence.size_hw`` is the target (H, W) (or the native size
        with ``crop="native"``), ``sequence.camera`` the camera the video was rendered with and
        ``sequence.fps`` the rate of the kept source frames (the mp4 is written at
        ``options.fps``).

    Raises:
        InputError: unreadable/empty video or image, no person anywhere in the video, no
            reference image when retargeting, a too-short clip under ``reference_api``.
        Cancelled (or the caller's exception): when ``check_cancel`` raises.
    """
    if models is None:
        raise InputError("run_single: models are required (PipelineModels.load(...))")
    src = open_video_source(video, num_frames)
    if options.retarget != "none" and ref_image is None:
        raise InputError(
            f"retarget={options.retarget!r} needs a reference image; pass one or use 'none'"
        )
    ref_rgb = load_reference_image(ref_image) if ref_image is not None else None
    plan = _plan(src, options, source_fps)
    units = max(plan.expected, 1)
    prog = _Progress(progress, check_cancel, total=2 * units + (1 if ref_rgb is not None else 0))
    prog.cancel()

    frames, stats = _extract_stream(src, plan, models, options, prog, units)
    n = len(frames)
    if not plan.expected:  # frame count learnt only now (an iterable of chunks)
        units = n
        prog.total = prog.done + n + (1 if ref_rgb is not None else 0)
    if not any(_has_person(f) for f in frames):
        raise _no_person_error(src.name, n)
    seq = PoseSequence(
        frames=tuple(frames),
        size_hw=plan.target_hw,
        fps=plan.seq_fps,
        meta=_sequence_meta("single", src, plan, options),
    )
    if options.retarget != "none":
        from .retarget import RetargetOptions, retarget

        t0 = time.perf_counter()
        if ref_rgb is None:  # checked above; keeps type checkers happy
            raise InputError("retargeting needs a reference image")
        ref_frame = _reference_frame(ref_rgb, plan.target_hw, models)
        seq = retarget(seq, ref_frame, RetargetOptions(mode=options.retarget))
        seq = _unaligned_fallback(seq, options.retarget)
        stats["retarget"] = {"seconds": time.perf_counter() - t0, "frames": 1}
    if ref_rgb is not None:
        prog.advance(1)
    return _finish(seq, options, "single", prog, units, stats, output)


def _extract_stream(
    src: _VideoSource,
    plan: _Plan,
    models: PipelineModels,
    options: PipelineOptions,
    prog: _Progress,
    units: int,
) -> tuple[list[PoseFrame], dict]:
    """Read → select → resize/crop → 2D → 3D, chunk by chunk; keeps only the pose data."""
    from .media.frames import resize_crop

    stats: dict = {}
    t_read = t_crop = t_ext = 0.0
    frames: list[PoseFrame] = []
    start = advanced = 0
    t = time.perf_counter()
    for chunk in src.chunks(options.chunk_size):
        t_read += time.perf_counter() - t
        sel, count = _select_in_chunk(chunk, start, plan.keep)
        start += chunk.shape[0]
        if count:
            t = time.perf_counter()
            cropped = sel if plan.identity else resize_crop(sel, plan.geom)
            t_crop += time.perf_counter() - t
            t = time.perf_counter()
            for det, p2, p3 in _extract_chunk(cropped, models, prog.check_cancel):
                frames.append(_single_person_frame(det, p2, p3, options.overlay_people))
            t_ext += time.perf_counter() - t
            step = min(count, units - advanced) if plan.expected else 0
            advanced += step
            prog.advance(step)
            del cropped
        del chunk, sel
        _release_free_heap()
        t = time.perf_counter()
    _check_read(src, plan, len(frames))
    stats["read"] = {"seconds": t_read, "frames": start}
    stats["resize_crop"] = {"seconds": t_crop, "frames": len(frames)}
    stats["extract"] = {"seconds": t_ext, "frames": len(frames)}
    return frames, stats


def _check_read(src: _VideoSource, plan: _Plan, n: int) -> None:
    if not n:
        raise InputError(f"{src.name}: no frames could be read; check that the video plays")
    if plan.keep is not None and n != plan.keep.shape[0]:
        LOGGER.warning(
            "%s: the container said %d frames but fewer were decoded; kept %d of %d planned",
            src.name, src.frame_count, n, plan.keep.shape[0],
        )  # fmt: skip


def _options_meta(options: PipelineOptions) -> dict:
    d = {k: getattr(options, k) for k in options.__dataclass_fields__}
    d["resolution"] = list(options.resolution)
    return d


# --------------------------------------------------------------------------------------------
# the multi-character job
# --------------------------------------------------------------------------------------------


class _FrameBuffer:
    """uint8 frames (n, H, W, 3) appended chunk by chunk into one preallocated array.

    With a known count the array is allocated once (no concatenation: one copy of the clip in
    memory); otherwise, or when more frames arrive than planned, capacity doubles.
    """

    def __init__(self, capacity: int, hw: tuple[int, int]):
        self._buf = np.empty((max(int(capacity), 1), hw[0], hw[1], 3), np.uint8)
        self.n = 0

    def append(self, chunk: np.ndarray) -> None:
        t = int(chunk.shape[0])
        if self.n + t > self._buf.shape[0]:
            grown = np.empty(
                (max(2 * self._buf.shape[0], self.n + t), *self._buf.shape[1:]), np.uint8
            )
            grown[: self.n] = self._buf[: self.n]
            self._buf = grown
        self._buf[self.n : self.n + t] = chunk
        self.n += t

    def frames(self) -> np.ndarray:
        """The frames appended so far (a view; no copy)."""
        return self._buf[: self.n]


def run_multi(
    video: VideoInput,
    ref_image: ImageInput | None = None,
    models: PipelineModels | None = None,
    options: PipelineOptions = PipelineOptions(multi=True),  # noqa: B008 - frozen dataclass
    progress: ProgressFn | None = None,
    check_cancel: CancelFn | None = None,
    output: str | Path | None = None,
    num_frames: int | None = None,
    source_fps: float | None = None,
) -> PipelineResult:
    """The multi-character job (reference_spec.md §7).

    Native resolution by default (``crop="auto"``); 2D on every frame (streamed); the
    ``max_characters`` largest people of the first frame with someone in it are prompted for
    SAM2, tracked through the clip, lifted to 3D one character at a time (masked frames), the
    2D people assigned to characters by mask overlap, and rendered together (union of
    capsules, per-character palettes).

    The reference image is only validated (the reference's multi job does not use it).
    The whole clip is held in memory once as uint8 at the working size (SAM2 tracks over it);
    ``num_frames`` / ``source_fps`` as in :func:`run_single`.

    Raises:
        InputError: as :func:`run_single`; also when ``models.segmenter`` is missing.
    """
    if models is None:
        raise InputError("run_multi: models are required (PipelineModels.load(..., multi=True))")
    if models.segmenter is None:
        raise InputError(
            "the multi-character job needs a SAM2 segmenter: load the models with multi=True "
            "(CLI: --multi) and make sure a sam2.1 checkpoint is available"
        )
    options = replace(options, multi=True)
    src = open_video_source(video, num_frames)
    if ref_image is not None:
        load_reference_image(ref_image)
    plan = _plan(src, options, source_fps)
    units = max(plan.expected, 1)
    # Stages: 2D (units), segmentation (units), 3D (units), render (units).
    prog = _Progress(progress, check_cancel, total=4 * units)
    prog.cancel()

    from .media.frames import resize_crop
    from .pose2d import detect_poses

    stats: dict = {}
    buf = _FrameBuffer(plan.expected or options.chunk_size, plan.target_hw)
    pose_frames: list[PoseFrame] = []
    start = 0
    t0 = time.perf_counter()
    for chunk in src.chunks(options.chunk_size):
        sel, count = _select_in_chunk(chunk, start, plan.keep)
        start += chunk.shape[0]
        if not count:
            continue
        cropped = sel if plan.identity else resize_crop(sel, plan.geom)
        buf.append(cropped)
        pose_frames.extend(
            detect_poses(cropped, models.detector, models.estimator, check_cancel=check_cancel)
        )
        prog.advance(count if plan.expected else 0)
        del chunk, sel, cropped
        _release_free_heap()
    stats["detect"] = {"seconds": time.perf_counter() - t0, "frames": len(pose_frames)}
    _check_read(src, plan, len(pose_frames))
    if not any(pf.detections is not None and len(pf.detections) for pf in pose_frames):
        raise _no_person_error(src.name, len(pose_frames))
    all_frames = buf.frames()
    seq = _multi_extract(all_frames, pose_frames, models, options, plan, prog, units, stats)
    del all_frames, buf
    if not any(_has_person(f) for f in seq.frames):
        raise InputError(
            f"no character could be lifted to 3D in {src.name}: the segmentation masks were "
            "empty or NLF found nobody inside them; check the video (people clearly visible "
            "on the first frames) or try the single-person job"
        )
    seq = replace(
        seq, fps=plan.seq_fps, meta={**seq.meta, **_sequence_meta("multi", src, plan, options)}
    )
    return _finish(seq, options, "multi", prog, units, stats, output)


def _multi_extract(
    frames: np.ndarray,
    pose_frames: list[PoseFrame],
    models: PipelineModels,
    options: PipelineOptions,
    plan: _Plan,
    prog: _Progress,
    units: int,
    stats: dict,
) -> PoseSequence:
    """SAM2 masks prompted on the first frame with people, then per-character 3D (§7 2–6).

    Frames before the prompt frame have empty masks: nobody is rendered there.
    """
    from .segment import ExtractOptions, SegmentOptions, extract_characters, segment_characters

    t0 = time.perf_counter()
    masks = segment_characters(
        frames,
        pose_frames,
        models.segmenter,
        SegmentOptions(max_characters=int(options.max_characters), chunk_size=options.chunk_size),
        progress=_sub_progress(prog, units),
        check_cancel=prog.check_cancel,
    )
    stats["segment"] = {"seconds": time.perf_counter() - t0, "frames": int(frames.shape[0])}
    t0 = time.perf_counter()
    seq = extract_characters(
        frames,
        masks,
        pose_frames,
        models.nlf,
        ExtractOptions(chunk_size=options.chunk_size, fps=plan.seq_fps),
        progress=_sub_progress(prog, units),
        check_cancel=prog.check_cancel,
    )
    del masks
    stats["lift"] = {"seconds": time.perf_counter() - t0, "frames": int(frames.shape[0])}
    return seq


def _sub_progress(prog: _Progress, units: int) -> Callable[[int, int], None]:
    """A stage-local ``progress(done, total)`` mapped onto ``units`` of the job's bar."""
    state = {"reported": 0}

    def cb(done: int, total: int) -> None:
        target = int(units * done / total) if total else 0
        target = max(0, min(units, target))
        if target > state["reported"]:
            prog.advance(target - state["reported"])
            state["reported"] = target

    return cb
