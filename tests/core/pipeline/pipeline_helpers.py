"""Helpers of the pipeline/CLI tests and the benchmark: synthetic videos, example folders, stand-ins."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_video(path: Path, frames: int = 6, hw: tuple[int, int] = (64, 96), fps: float = 25.0):
    """A small H.264 mp4 of moving grey gradients (no person)."""
    from scail_pose_core.media.video import write_video

    h, w = hw
    t = np.arange(frames)[:, None, None]
    y = np.arange(h)[None, :, None]
    x = np.arange(w)[None, None, :]
    g = ((x * 2 + y + t * 7) % 256).astype(np.uint8)
    write_video(path, np.repeat(g[..., None], 3, axis=-1), fps=fps)
    return path


def make_image(path: Path, hw: tuple[int, int] = (80, 60)) -> Path:
    import cv2

    img = np.full((*hw, 3), 120, np.uint8)
    img[10:40, 20:40] = (200, 30, 30)
    assert cv2.imwrite(str(path), img)
    return path


def make_example(tmp_path: Path) -> Path:
    """A reference-style example folder: driving.mp4 + ref_image.jpg (no person in them)."""
    d = tmp_path / "001"
    d.mkdir()
    make_video(d / "driving.mp4")
    make_image(d / "ref_image.jpg")
    return d


# --------------------------------------------------------------------------------------------
# stand-in models and frames with a "person" they find
# --------------------------------------------------------------------------------------------

#: Where the planted person stands in a 512×896 (H×W) frame: pixels xyxy.
PERSON_BOX_512x896 = (360.0, 80.0, 540.0, 460.0)
#: A second, smaller person to the left (multi-character tests).
SECOND_BOX_512x896 = (100.0, 160.0, 220.0, 440.0)


def person_box(
    size_hw: tuple[int, int], box: tuple[float, ...] = PERSON_BOX_512x896
) -> tuple[float, float, float, float]:
    """The planted person box scaled to a frame of ``size_hw`` (pixels xyxy)."""
    h, w = size_hw
    x1, y1, x2, y2 = box
    return (x1 * w / 896, y1 * h / 512, x2 * w / 896, y2 * h / 512)


# --------------------------------------------------------------------------------------------
# 2D consistent with 3D: "skeleton" markers at the K0 projection of the NLF stand-in's joints
# --------------------------------------------------------------------------------------------

#: COCO-WholeBody keypoint → (marker code, SMPL-24 joint whose K0 projection it sits at) for the
#: "skeleton" DWPose stand-in. These are the points the camera fit's "down" mode reads: the
#: shoulders (their mean is DWPose's neck, placed at SMPL neck 12: same x as the SMPL
#: shoulders, the neck's y), knees and ankles. Every other keypoint has no marker (score 0).
SKELETON_POINTS: dict[int, tuple[int, int]] = {
    5: (1, 16),  # left shoulder (x of SMPL l_shoulder, y of the neck)
    6: (2, 17),  # right shoulder
    13: (3, 4),  # left knee
    14: (4, 5),  # right knee
    15: (5, 7),  # left ankle
    16: (6, 8),  # right ankle
}
NECK_SMPL = 12


def skeleton_codes() -> np.ndarray:
    """(133,) marker code per DWPose keypoint for the "skeleton" stand-in (0 = no marker)."""
    codes = np.zeros(133, np.int64)
    for k, (code, _j) in SKELETON_POINTS.items():
        codes[k] = code
    return codes


def nlf_projection(region_xyxy: tuple[float, float, float, float]) -> np.ndarray:
    """(24, 2) K0 pixels of the joints the NLF stand-in returns for the non-black ``region``
    (half-open x0, y0, x1, y1): tests/standin_nlf.py places joint j at depth f·1700/h so that it
    projects through the image's FOV camera to (x0 + u_j·w, y0 + v_j·h), (u, v) = TEMPLATE_UV."""
    from standin_nlf import TEMPLATE_UV

    x0, y0, x1, y1 = (float(v) for v in region_xyxy)
    uv = TEMPLATE_UV.astype(np.float64)
    return np.stack([x0 + uv[:, 0] * (x1 - x0), y0 + uv[:, 1] * (y1 - y0)], axis=1)


def skeleton_markers(joints_px: np.ndarray) -> dict[int, tuple[float, float]]:
    """Marker code → image (x, y) for the "skeleton" stand-in, from (24, 2) SMPL joint pixels."""
    out = {}
    for _k, (code, j) in SKELETON_POINTS.items():
        x, y = joints_px[j]
        if j in (16, 17):
            y = joints_px[NECK_SMPL][1]  # shoulders level with the neck: their mean is the neck
        out[code] = (float(x), float(y))
    return out


def draw_markers(image: np.ndarray, markers: dict[int, tuple[float, float]]) -> None:
    from standin_onnx import draw_marker

    for code, xy in markers.items():
        draw_marker(image, xy, code)


def figure_frames(
    n: int,
    size_hw: tuple[int, int] = (512, 896),
    start: int = 0,
    blank: tuple[int, ...] = (),
    markers: bool | str = True,
    two: bool = False,
) -> np.ndarray:
    """(n, H, W, 3) uint8: black frames with a grey "person" filling :func:`person_box`
    (the NLF stand-in finds exactly that region) and the DWPose stand-in's colour markers:
    ``markers=True`` the default layout (tests/standin_onnx.py), ``"skeleton"`` the skeleton
    markers at the K0 projection of the NLF joints (read by the ``skeleton`` stand-in models).

    With ``two`` a second person stands at :data:`SECOND_BOX_512x896`. Frames whose global
    index (``start`` + i) is in ``blank`` are all black (nobody there).
    """
    h, w = size_hw
    one = np.zeros((h, w, 3), np.uint8)
    for box in (PERSON_BOX_512x896, SECOND_BOX_512x896)[: 2 if two else 1]:
        x1, y1, x2, y2 = (int(round(v)) for v in person_box(size_hw, box))
        one[y1:y2, x1:x2] = 70
        if markers == "skeleton":
            draw_markers(one, skeleton_markers(nlf_projection((x1, y1, x2, y2))))
        elif markers:
            from standin_onnx import draw_person_markers

            draw_person_markers(one, (x1, y1, x2, y2))
    out = np.repeat(one[None], n, axis=0)
    for i in range(n):
        if start + i in blank:
            out[i] = 0
    return out


def build_standin_models(
    models_dir: Path,
    size_hw: tuple[int, int] = (512, 896),
    boxes: list[tuple[float, float, float, float]] | None = None,
    dwpose_mode: str = "markers",
    two: bool = False,
    skeleton: bool = False,
) -> Path:
    """Write the YOLOX, DWPose and NLF stand-ins under their real file names in ``models_dir``.

    The YOLOX stand-in "detects" ``boxes`` (frame pixels of a ``size_hw`` frame; default: the
    planted person; ``[]`` = nobody) in every frame. ``skeleton``: the DWPose stand-in reads
    the skeleton markers (:func:`skeleton_codes`) instead of the default codes.
    """
    from standin_nlf import build_nlf_standin
    from standin_onnx import build_dwpose_standin, build_yolox_standin

    from scail_pose_core.detection.yolox import letterbox_ratio
    from scail_pose_core.weights import WEIGHTS

    models_dir.mkdir(parents=True, exist_ok=True)
    r, _ = letterbox_ratio(size_hw)
    if boxes is None:
        boxes = [person_box(size_hw)] + ([person_box(size_hw, SECOND_BOX_512x896)] if two else [])
    build_yolox_standin(
        models_dir / WEIGHTS["yolox_l"].filename,
        [[v * r for v in b] for b in boxes],
        dynamic_batch=True,
    )
    build_dwpose_standin(
        models_dir / WEIGHTS["dwpose"].filename,
        mode=dwpose_mode,
        codes=skeleton_codes() if skeleton else None,
    )
    build_nlf_standin(models_dir / WEIGHTS["nlf"].filename)
    return models_dir


def load_standin_models(models_dir: Path, **kwargs):
    """Build the stand-ins (see :func:`build_standin_models`) and load them for the pipeline."""
    from scail_pose_core.pipeline import PipelineModels

    build_standin_models(models_dir, **kwargs)
    return PipelineModels.load(models_dir, device="cpu")


def write_figure_video(
    path: Path,
    n: int,
    size_hw: tuple[int, int] = (512, 896),
    fps: float = 25.0,
    blank: tuple[int, ...] = (),
    markers: bool | str = True,
    two: bool = False,
) -> Path:
    """An mp4 of :func:`figure_frames` (lossless enough for the stand-ins: crf 0)."""
    from scail_pose_core.media.video import write_video

    def chunks():
        for s in range(0, n, 32):
            yield figure_frames(
                min(32, n - s), size_hw, start=s, blank=blank, markers=markers, two=two
            )

    write_video(path, chunks(), fps=fps, crf=0)
    return path


def lit_fraction(frames: np.ndarray, threshold: int = 24) -> np.ndarray:
    """(T,) fraction of pixels of each frame brighter than ``threshold`` in any channel."""
    return (np.asarray(frames).max(axis=-1) > threshold).mean(axis=(1, 2))


_CACHE: dict[tuple, Path] = {}


def cached_models_dir(
    size_hw: tuple[int, int] = (512, 896),
    nobody: bool = False,
    two: bool = False,
    skeleton: bool = False,
) -> Path:
    """A stand-in models folder built once per test session (removed at exit)."""
    import atexit
    import shutil
    import tempfile

    key = (tuple(size_hw), nobody, two, skeleton)
    if key not in _CACHE:
        d = Path(tempfile.mkdtemp(prefix="scail_pipeline_models_"))
        atexit.register(shutil.rmtree, d, True)
        _CACHE[key] = build_standin_models(
            d, size_hw=size_hw, boxes=[] if nobody else None, two=two, skeleton=skeleton
        )
    return _CACHE[key]


def cached_models(
    size_hw: tuple[int, int] = (512, 896),
    nobody: bool = False,
    two: bool = False,
    segmenter=None,
    skeleton: bool = False,
    seeing: bool = False,
):
    """Loaded :class:`PipelineModels` over :func:`cached_models_dir` (+ ``segmenter``).

    ``seeing``: the YOLOX stand-in is wrapped by :class:`SeeingDetector` (no box on black).
    """
    from scail_pose_core.pipeline import PipelineModels

    m = PipelineModels.load(cached_models_dir(size_hw, nobody, two, skeleton), device="cpu")
    m.segmenter = segmenter
    if seeing:
        m.detector = SeeingDetector(m.detector)
    return m


class SeeingDetector:
    """The YOLOX stand-in "detects" its planted boxes whatever the image shows; this wrapper
    drops every box whose pixels are all black, so an image with nobody in it gives no box."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def detect(self, frames_rgb: np.ndarray, *args, **kwargs):
        from scail_pose_core.types import Detections

        out = []
        for frame, det in zip(frames_rgb, self.inner.detect(frames_rgb, *args, **kwargs),
                              strict=True):  # fmt: skip
            keep = []
            for i, (x1, y1, x2, y2) in enumerate(det.boxes_xyxy):
                patch = frame[int(max(y1, 0)) : int(y2) + 1, int(max(x1, 0)) : int(x2) + 1]
                if patch.size and patch.max() > 0:
                    keep.append(i)
            out.append(Detections(det.boxes_xyxy[keep], det.scores[keep]))
        return out

    __call__ = detect


class BoxSegmenter:
    """A SAM2 stand-in with ``Sam2Segmenter.track``'s interface: each character's mask is the
    non-black pixels inside its prompt box, in every frame from the prompt frame on."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def track(self, frames, prompts, chunk_size=32, offload_state_to_cpu=False, progress=None,
              check_cancel=None):  # fmt: skip
        n = len(frames)
        h, w = np.asarray(frames[0]).shape[:2]
        self.calls.append({"frames": n, "prompts": list(prompts)})
        for s in range(0, n, chunk_size):
            e = min(n, s + chunk_size)
            out = np.zeros((e - s, len(prompts), h, w), bool)
            for i in range(s, e):
                lit = np.asarray(frames[i]).max(axis=-1) > 0
                for c, p in enumerate(prompts):
                    if i < p.frame_index or p.box_xyxy is None:
                        continue
                    x1, y1, x2, y2 = (int(round(v)) for v in p.box_xyxy)
                    out[i - s, c, y1:y2, x1:x2] = lit[y1:y2, x1:x2]
            if check_cancel is not None:
                check_cancel()
            if progress is not None:
                progress(e, n)
            yield s, out
