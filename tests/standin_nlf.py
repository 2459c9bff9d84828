# ruff: noqa: UP006, UP045 - TorchScript compiles typing.List/Dict/Optional annotations
"""A tiny NLF multi-person TorchScript stand-in with NLF's interface and a planted, decodable answer.

``build_nlf_standin(path)`` scripts :class:`NLFStandIn` and saves it with ``torch.jit.save``
(a ~20 KB TorchScript archive loadable by ``scail_pose_core.lift3d.load_nlf``).

Interface (environment_notes.md §6): ``detect_smpl_batched(images, intrinsic_matrix=None,
distortion_coeffs=None, extrinsic_matrix=None, world_up_vector=None, default_fov_degrees=55.0,
internal_batch_size=64, antialias_factor=1, num_aug=1, rot_aug_max_degrees=25.0,
detector_threshold=0.3, detector_nms_iou_threshold=0.7, max_detections=150,
suppress_implausible_poses=True, beta_regularizer=10.0, beta_regularizer2=0.0, model_name='smpl')``
returning NLF's keys (per-image lists): boxes, pose, betas, trans, joints3d, vertices3d, joints2d,
vertices2d, joints3d_nonparam, vertices3d_nonparam, joints2d_nonparam, vertices2d_nonparam,
joint_uncertainties, vertex_uncertainties (the vertex tensors have 0 vertices).
Also ``estimate_smpl_batched(images, boxes, ...)`` and a ``detector`` submodule
``detector(images, threshold, nms_iou_threshold, max_detections, extrinsic_matrix,
world_up_vector) -> List[Tensor (n, 5)]``.

**What it "detects".** ``images`` is uint8 (N, 3, H, W). In each image, the columns holding any
non-zero pixel are split into maximal runs of consecutive columns; each run is one region whose
box is [x0, x1) × [y0, y1) (half-open pixel bounds: x0 = first column, x1 = last column + 1,
y0/y1 the first/last+1 non-zero row inside those columns). A fully black image gives zero
detections. Detections are ordered by region area, largest first (so detection [0] is the
largest region); every score is 0.9; at most ``max_detections`` are returned.

**The planted skeleton (the encoding tests decode).** For a region box (x0, y0, w, h) and the
camera (f, cx, cy) — the FOV camera of the image (f = max(H, W) / (2·tan(fov/2)), principal
point (W/2, H/2)) or ``intrinsic_matrix`` when given — every joint lies at depth
Z = f · 1700 / h mm (a 1.7 m person fills the region height) and projects to
(x0 + u·w, y0 + v·h), with the fixed box-relative (u, v) of :data:`TEMPLATE_UV` (a flat
T-pose facing the camera). Hence, projecting ``joints3d_nonparam`` with that camera:

* pelvis (joint 0) → the region centre ((x0 + x1)/2, (y0 + y1)/2);
* right hand (23) → x0, left hand (22) → x1; head (15) → y0; left/right foot (10, 11) → y1;
* Z (any joint) = f · 1700 / (y1 − y0).

:func:`decode_region` inverts this (returns (x0, y0, x1, y1) as ints).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Dict, List, Optional  # noqa: UP035

import numpy as np
import torch
from torch import Tensor

PERSON_HEIGHT_MM = 1700.0  # literal 1700.0 inside the scripted code
SCORE = 0.9  # literal 0.9 inside the scripted code

#: Box-relative (u, v) of each SMPL-24 joint: a flat T-pose seen from the front (the person's
#: left side is image right). Hands at the box's left/right edges, head at the top, feet at
#: the bottom, pelvis at the centre.
TEMPLATE_UV = np.array(
    [
        [0.50, 0.50],  # 0 pelvis
        [0.56, 0.52],  # 1 l_hip
        [0.44, 0.52],  # 2 r_hip
        [0.50, 0.42],  # 3 spine1
        [0.57, 0.72],  # 4 l_knee
        [0.43, 0.72],  # 5 r_knee
        [0.50, 0.33],  # 6 spine2
        [0.57, 0.93],  # 7 l_ankle
        [0.43, 0.93],  # 8 r_ankle
        [0.50, 0.27],  # 9 spine3
        [0.58, 1.00],  # 10 l_foot
        [0.42, 1.00],  # 11 r_foot
        [0.50, 0.17],  # 12 neck
        [0.54, 0.19],  # 13 l_collar
        [0.46, 0.19],  # 14 r_collar
        [0.50, 0.00],  # 15 head
        [0.62, 0.20],  # 16 l_shoulder
        [0.38, 0.20],  # 17 r_shoulder
        [0.75, 0.20],  # 18 l_elbow
        [0.25, 0.20],  # 19 r_elbow
        [0.90, 0.20],  # 20 l_wrist
        [0.10, 0.20],  # 21 r_wrist
        [1.00, 0.20],  # 22 l_hand
        [0.00, 0.20],  # 23 r_hand
    ],
    dtype=np.float32,
)


def _camera(
    h: int, w: int, i: int, intrinsic_matrix: Optional[Tensor], fov_deg: float
) -> List[float]:
    if intrinsic_matrix is not None:
        k = intrinsic_matrix
        if k.dim() == 3:
            k = k[i] if k.shape[0] > 1 else k[0]
        return [float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2])]
    f = float(max(h, w)) / (2.0 * math.tan(fov_deg * math.pi / 360.0))
    return [f, f, float(w) / 2.0, float(h) / 2.0]


def _regions(image: Tensor, max_detections: int) -> Tensor:
    """(n, 5) float32 boxes x, y, w, h, score of the non-black column runs, largest first."""
    occ = image.amax(0) > 0  # (H, W)
    cols = occ.any(0).to(torch.int32)
    zero = torch.zeros(1, dtype=torch.int32, device=image.device)
    padded = torch.cat([zero, cols, zero])
    d = padded[1:] - padded[:-1]
    starts = torch.nonzero(d == 1).flatten()
    ends = torch.nonzero(d == -1).flatten()
    boxes: List[Tensor] = []
    areas: List[float] = []
    for k in range(int(starts.shape[0])):
        s = int(starts[k])
        e = int(ends[k])
        rows = torch.nonzero(occ[:, s:e].any(1)).flatten()
        y0 = int(rows[0])
        y1 = int(rows[-1]) + 1
        boxes.append(torch.tensor([float(s), float(y0), float(e - s), float(y1 - y0), 0.9]))
        areas.append(float((e - s) * (y1 - y0)))
    if len(boxes) == 0:
        return torch.zeros((0, 5), dtype=torch.float32)
    order = torch.argsort(torch.tensor(areas), descending=True)
    out = torch.stack(boxes)[order]
    return out[:max_detections]


def _skeletons(boxes: Tensor, cam: List[float], uv: Tensor) -> List[Tensor]:
    """joints3d (n, 24, 3) mm and joints2d (n, 24, 2) px of the planted T-pose per box."""
    n = int(boxes.shape[0])
    if n == 0:
        return [torch.zeros((0, 24, 3)), torch.zeros((0, 24, 2))]
    fx, fy, cx, cy = cam[0], cam[1], cam[2], cam[3]
    x0 = boxes[:, 0:1]
    y0 = boxes[:, 1:2]
    w = boxes[:, 2:3]
    h = boxes[:, 3:4]
    px = x0 + uv[:, 0].unsqueeze(0) * w  # (n, 24)
    py = y0 + uv[:, 1].unsqueeze(0) * h
    z = (fy * 1700.0 / h).expand(n, 24)
    x3 = (px - cx) / fx * z
    y3 = (py - cy) / fy * z
    j3 = torch.stack([x3, y3, z], dim=2)
    j2 = torch.stack([px, py], dim=2)
    return [j3, j2]


def _pack(boxes: Tensor, cam: List[float], uv: Tensor, out: Dict[str, List[Tensor]]) -> None:
    n = int(boxes.shape[0])
    sk = _skeletons(boxes, cam, uv)
    j3 = sk[0]
    j2 = sk[1]
    out["boxes"].append(boxes)
    out["joints3d_nonparam"].append(j3)
    out["joints3d"].append(j3.clone())
    out["joints2d_nonparam"].append(j2)
    out["joints2d"].append(j2.clone())
    out["joint_uncertainties"].append(torch.full((n, 24), 0.05))
    out["pose"].append(torch.zeros((n, 72)))
    out["betas"].append(torch.zeros((n, 10)))
    out["trans"].append(j3[:, 0, :].clone() if n > 0 else torch.zeros((0, 3)))
    for key in ("vertices3d", "vertices3d_nonparam"):
        out[key].append(torch.zeros((n, 0, 3)))
    for key in ("vertices2d", "vertices2d_nonparam"):
        out[key].append(torch.zeros((n, 0, 2)))
    out["vertex_uncertainties"].append(torch.zeros((n, 0)))


KEYS = [
    "boxes", "pose", "betas", "trans", "joints3d", "vertices3d", "joints2d", "vertices2d",
    "joints3d_nonparam", "vertices3d_nonparam", "joints2d_nonparam", "vertices2d_nonparam",
    "joint_uncertainties", "vertex_uncertainties",
]  # fmt: skip


def _empty_out() -> Dict[str, List[Tensor]]:
    keys = [
        "boxes", "pose", "betas", "trans", "joints3d", "vertices3d", "joints2d", "vertices2d",
        "joints3d_nonparam", "vertices3d_nonparam", "joints2d_nonparam", "vertices2d_nonparam",
        "joint_uncertainties", "vertex_uncertainties",
    ]  # fmt: skip
    out: Dict[str, List[Tensor]] = {}
    for k in keys:
        out[k] = []
    return out


class StandInDetector(torch.nn.Module):
    """``detector(images, ...)`` -> one (n, 5) xywh+score tensor per image (the column runs)."""

    def forward(
        self,
        images: Tensor,
        threshold: float = 0.3,
        nms_iou_threshold: float = 0.7,
        max_detections: int = 150,
        extrinsic_matrix: Optional[Tensor] = None,
        world_up_vector: Optional[Tensor] = None,
    ) -> List[Tensor]:
        res: List[Tensor] = []
        for i in range(int(images.shape[0])):
            b = _regions(images[i], max_detections)
            res.append(b[b[:, 4] >= threshold])
        return res


class NLFStandIn(torch.nn.Module):
    """Scriptable module with NLF's methods; see the module docstring for the encoding."""

    def __init__(self) -> None:
        super().__init__()
        self.detector = StandInDetector()
        self.register_buffer("uv", torch.from_numpy(TEMPLATE_UV.copy()))

    def forward(self, images: Tensor) -> Dict[str, List[Tensor]]:
        return self.detect_smpl_batched(
            images, None, None, None, None, 55.0, 64, 1, 1, 25.0, 0.3, 0.7, 150, True, 10.0, 0.0,
            "smpl",
        )  # fmt: skip

    @torch.jit.export
    def detect_smpl_batched(
        self,
        images: Tensor,
        intrinsic_matrix: Optional[Tensor] = None,
        distortion_coeffs: Optional[Tensor] = None,
        extrinsic_matrix: Optional[Tensor] = None,
        world_up_vector: Optional[Tensor] = None,
        default_fov_degrees: float = 55.0,
        internal_batch_size: int = 64,
        antialias_factor: int = 1,
        num_aug: int = 1,
        rot_aug_max_degrees: float = 25.0,
        detector_threshold: float = 0.3,
        detector_nms_iou_threshold: float = 0.7,
        max_detections: int = 150,
        suppress_implausible_poses: bool = True,
        beta_regularizer: float = 10.0,
        beta_regularizer2: float = 0.0,
        model_name: str = "smpl",
    ) -> Dict[str, List[Tensor]]:
        if images.dtype != torch.uint8 or images.dim() != 4 or int(images.shape[1]) != 3:
            raise RuntimeError("stand-in NLF expects uint8 images (N, 3, H, W)")
        h = int(images.shape[2])
        w = int(images.shape[3])
        boxes_all = self.detector(
            images, detector_threshold, detector_nms_iou_threshold, max_detections,
            extrinsic_matrix, world_up_vector,
        )  # fmt: skip
        out = _empty_out()
        for i in range(int(images.shape[0])):
            cam = _camera(h, w, i, intrinsic_matrix, default_fov_degrees)
            _pack(boxes_all[i], cam, self.uv, out)
        return out

    @torch.jit.export
    def estimate_smpl_batched(
        self,
        images: Tensor,
        boxes: List[Tensor],
        intrinsic_matrix: Optional[Tensor] = None,
        distortion_coeffs: Optional[Tensor] = None,
        extrinsic_matrix: Optional[Tensor] = None,
        world_up_vector: Optional[Tensor] = None,
        default_fov_degrees: float = 55.0,
        internal_batch_size: int = 64,
        antialias_factor: int = 1,
        num_aug: int = 1,
        rot_aug_max_degrees: float = 25.0,
        beta_regularizer: float = 10.0,
        beta_regularizer2: float = 0.0,
        model_name: str = "smpl",
    ) -> Dict[str, List[Tensor]]:
        h = int(images.shape[2])
        w = int(images.shape[3])
        out = _empty_out()
        for i in range(int(images.shape[0])):
            cam = _camera(h, w, i, intrinsic_matrix, default_fov_degrees)
            b = boxes[i][:, :4]
            b = torch.cat([b, torch.full((int(b.shape[0]), 1), 0.9)], dim=1)
            _pack(b, cam, self.uv, out)
        return out


class NoDetectMethod(torch.nn.Module):
    """A valid TorchScript module that lacks ``detect_smpl_batched`` (for refusal tests)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * 2


def build_nlf_standin(path: str | Path) -> Path:
    """Script :class:`NLFStandIn` and ``torch.jit.save`` it to ``path``; returns the path."""
    p = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.* deprecation notes
        torch.jit.save(torch.jit.script(NLFStandIn()), str(p))
    return p


def build_torchscript_without_method(path: str | Path) -> Path:
    """Save a TorchScript module that has no ``detect_smpl_batched``."""
    p = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(NoDetectMethod()), str(p))
    return p


def fov_camera(size_hw: tuple[int, int], fov_deg: float = 55.0) -> tuple[float, float, float]:
    """(f, cx, cy) of the FOV camera the stand-in uses for an image of ``size_hw``."""
    h, w = size_hw
    return max(h, w) / (2.0 * math.tan(math.radians(fov_deg) / 2.0)), w / 2.0, h / 2.0


def decode_region(joints_mm: np.ndarray, size_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """Invert the planted encoding: (24, 3) joints → the region (x0, y0, x1, y1), half-open px."""
    f, cx, cy = fov_camera(size_hw)
    j = np.asarray(joints_mm, np.float64)
    u = f * j[:, 0] / j[:, 2] + cx
    v = f * j[:, 1] / j[:, 2] + cy
    return (int(round(u[23])), int(round(v[15])), int(round(u[22])), int(round(v[10])))


def region_of_image(image_hwc: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) half-open of the non-zero pixels of an (H, W, 3) image."""
    occ = np.asarray(image_hwc).max(axis=2) > 0
    if not occ.any():
        return None
    ys = np.flatnonzero(occ.any(axis=1))
    xs = np.flatnonzero(occ.any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1
