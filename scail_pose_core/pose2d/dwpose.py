"""DWPose whole-body 2D estimator on onnxruntime (reference_spec.md §3). Entry point:
:class:`DWPoseEstimator`.

preprocess (:func:`~.crop.crop_and_normalize`, pure) → runner → postprocess
(:func:`~.simcc.decode_simcc` + :func:`~.simcc.to_image_coords`, pure). When the model's batch
dimension is dynamic, every person crop of several frames goes through one run (bounded by
``max_batch``); with a static batch, one run per crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelFormatError
from ..onnx_session import ProviderSpec, Runner, TensorInfo, load_onnx_model
from .crop import PADDING, crop_and_normalize
from .simcc import SPLIT_RATIO, decode_simcc, to_image_coords

DEFAULT_INPUT_HW: tuple[int, int] = (384, 288)
NUM_KEYPOINTS = 133


def check_dwpose_io(
    inputs: Sequence[TensorInfo],
    outputs: Sequence[TensorInfo],
    split_ratio: float = SPLIT_RATIO,
    where: str = "DWPose model",
) -> tuple[tuple[int, int], bool, tuple[int, int]]:
    """Validate a DWPose (SimCC) model's tensors.

    Returns:
        (input (h, w), batch_is_dynamic, (index of simcc_x, index of simcc_y) among outputs).
        The outputs are found by name (``simcc_x``/``simcc_y``) when present, else by order.

    Raises:
        ModelFormatError: the input is not [batch, 3, h, w] with a fixed h, w, or the outputs
        are not [batch, 133, w·split] and [batch, 133, h·split].
    """
    if not inputs or len(inputs[0].shape) != 4 or inputs[0].dim(1) not in (3, None):
        raise ModelFormatError(
            f"{where}: expected one input [batch, 3, 384, 288], got "
            f"{[(i.name, i.shape) for i in inputs]}. Is this dw-ll_ucoco_384.onnx?"
        )
    inp = inputs[0]
    h, w = inp.dim(2), inp.dim(3)
    if h is None or w is None:
        raise ModelFormatError(f"{where}: input size must be fixed, got {inp.shape}")
    names = [o.name for o in outputs]
    ix, iy = (names.index("simcc_x"), names.index("simcc_y")) if {
        "simcc_x", "simcc_y"} <= set(names) else (0, 1)  # fmt: skip
    want = {ix: int(w * split_ratio), iy: int(h * split_ratio)}
    ok = len(outputs) >= 2
    for i, bins in want.items() if ok else ():
        o = outputs[i]
        ok = ok and len(o.shape) == 3 and o.dim(1) in (NUM_KEYPOINTS, None)
        ok = ok and o.dim(2) in (bins, None)
    if not ok:
        raise ModelFormatError(
            f"{where}: expected outputs simcc_x [batch, {NUM_KEYPOINTS}, {want.get(ix)}] and "
            f"simcc_y [batch, {NUM_KEYPOINTS}, {want.get(iy)}] for a {h}x{w} input, got "
            f"{[(o.name, o.shape) for o in outputs]}. Is this a DWPose/RTMPose SimCC export?"
        )
    return (h, w), inp.dim(0) is None, (ix, iy)


class DWPoseEstimator:
    """DWPose / RTMPose-style whole-body estimator (133 COCO-WholeBody keypoints).

    Args:
        runner: callable (N, 3, h, w) float32 → outputs containing simcc_x (N, 133, w·split)
            and simcc_y (N, 133, h·split).
        input_size_hw: model input (h, w); :meth:`from_path` reads it from the session.
        batch_dynamic: the runner accepts N > 1 crops per run.
        output_index: positions of (simcc_x, simcc_y) in the runner's outputs.
        split_ratio: SimCC bins per pixel (2.0).
        padding: box padding (1.25).
        max_batch: crops per run when batching (32 × 1.3 MB of input).

    The model input and the crops' uint8 intermediates are buffers kept between calls, so one
    estimator must not be used by two threads at once.
    """

    def __init__(
        self,
        runner: Runner,
        input_size_hw: tuple[int, int] = DEFAULT_INPUT_HW,
        batch_dynamic: bool = True,
        output_index: tuple[int, int] = (0, 1),
        split_ratio: float = SPLIT_RATIO,
        padding: float = PADDING,
        max_batch: int = 32,
    ) -> None:
        self.runner = runner
        self.input_size_hw = (int(input_size_hw[0]), int(input_size_hw[1]))
        self.batch_dynamic = bool(batch_dynamic)
        self.output_index = output_index
        self.split_ratio = float(split_ratio)
        self.padding = float(padding)
        self.max_batch = max(1, int(max_batch)) if batch_dynamic else 1
        self._scratch: dict = {}  # uint8 intermediates of the crops, kept between calls
        self._input: np.ndarray | None = None  # model input buffer of estimate_many

    @classmethod
    def from_path(
        cls, path: str | Path, providers: Sequence[ProviderSpec] | None = None
    ) -> DWPoseEstimator:
        """Load ``dw-ll_ucoco_384.onnx`` (or another 133-keypoint SimCC export).

        Raises:
            MissingWeightsError, ModelFormatError, OptionalDependencyError: see
            :func:`~scail_pose_core.onnx_session.load_onnx_model`; ModelFormatError also for
            tensors of the wrong shape.
        """
        model = load_onnx_model(path, providers, role="DWPose")
        hw, dyn, idx = check_dwpose_io(
            model.inputs, model.outputs, SPLIT_RATIO, f"DWPose model {Path(path).name}"
        )
        est = cls(model, hw, dyn, idx)
        est.model = model
        return est

    # -- the three stages -------------------------------------------------------------------
    def preprocess(
        self, frame_rgb: np.ndarray, boxes_xyxy: np.ndarray, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(H, W, 3) uint8 RGB + (N, 4) boxes → ((N, 3, h, w) float32, centers, scales).

        The uint8 intermediates are kept between calls, so one estimator must not be used by two
        threads at once.
        """
        return crop_and_normalize(
            frame_rgb, boxes_xyxy, self.input_size_hw, self.padding, out, self._scratch
        )

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3, h, w) float32 → (simcc_x (N, K, Wx), simcc_y (N, K, Wy))."""
        if batch.shape[0] == 0:
            k = NUM_KEYPOINTS
            h, w = self.input_size_hw
            s = self.split_ratio
            return np.zeros((0, k, int(w * s)), np.float32), np.zeros(
                (0, k, int(h * s)), np.float32
            )
        if self.batch_dynamic:
            return self._run(batch)
        parts = [self._run(batch[i : i + 1]) for i in range(batch.shape[0])]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        outs = self.runner(x)
        ix, iy = self.output_index
        return np.asarray(outs[ix]), np.asarray(outs[iy])

    def postprocess(
        self, simcc_x: np.ndarray, simcc_y: np.ndarray, centers: np.ndarray, scales: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """SimCC → ((N, 133, 2) float64 frame pixels, (N, 133) float32 scores).

        Raises:
            ModelFormatError: the outputs do not have the (N, 133, w·split) / (N, 133, h·split)
            shapes this input size implies.
        """
        n = centers.shape[0]
        h, w = self.input_size_hw
        wx, wy = int(w * self.split_ratio), int(h * self.split_ratio)
        if simcc_x.shape != (n, NUM_KEYPOINTS, wx) or simcc_y.shape != (n, NUM_KEYPOINTS, wy):
            raise ModelFormatError(
                f"DWPose outputs have shapes {simcc_x.shape} and {simcc_y.shape} for {n} crops; "
                f"expected ({n}, {NUM_KEYPOINTS}, {wx}) and ({n}, {NUM_KEYPOINTS}, {wy})"
            )
        locs, scores = decode_simcc(simcc_x, simcc_y, self.split_ratio)
        return to_image_coords(locs, centers, scales, (w, h)), scores

    # -- convenience ------------------------------------------------------------------------
    def estimate(
        self, frame_rgb: np.ndarray, boxes_xyxy: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whole-body keypoints of the people in ``boxes_xyxy`` (N, 4) of one RGB frame.

        Returns:
            keypoints (N, 133, 2) float64 frame pixels, scores (N, 133) float32.
        """
        return self.estimate_many(frame_rgb[None], [boxes_xyxy])[0]

    def estimate_many(
        self, frames_rgb: np.ndarray, boxes_per_frame: Sequence[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Keypoints for every box of every frame; crops batched across frames.

        Args:
            frames_rgb: (T, H, W, 3) uint8 RGB.
            boxes_per_frame: T arrays (N_t, 4) of pixel boxes.

        Returns:
            T pairs (keypoints (N_t, 133, 2) float64 pixels, scores (N_t, 133) float32).
        """
        if len(boxes_per_frame) != frames_rgb.shape[0]:
            raise InputError(
                f"estimate_many: {frames_rgb.shape[0]} frames but {len(boxes_per_frame)} box lists"
            )
        items = [
            (t, b)
            for t, boxes in enumerate(boxes_per_frame)
            for b in np.asarray(boxes, np.float32).reshape(-1, 4)
        ]
        h, w = self.input_size_hw
        kps = np.zeros((len(items), NUM_KEYPOINTS, 2), np.float64)
        scs = np.zeros((len(items), NUM_KEYPOINTS), np.float32)
        for start in range(0, len(items), self.max_batch):
            part = items[start : start + self.max_batch]
            if self._input is None or self._input.shape[0] < len(part):
                self._input = np.empty((len(part), 3, h, w), np.float32)
            buf = self._input[: len(part)]  # reused: the runner's outputs never alias it
            centers = np.empty((len(part), 2), np.float32)
            scales = np.empty((len(part), 2), np.float32)
            i = 0
            while i < len(part):  # group consecutive boxes of the same frame
                t = part[i][0]
                j = i
                while j < len(part) and part[j][0] == t:
                    j += 1
                boxes = np.stack([b for _, b in part[i:j]])
                _, centers[i:j], scales[i:j] = self.preprocess(frames_rgb[t], boxes, buf[i:j])
                i = j
            sx, sy = self.infer(buf)
            k, s = self.postprocess(sx, sy, centers, scales)
            kps[start : start + len(part)] = k
            scs[start : start + len(part)] = s
        out = []
        pos = 0
        for boxes in boxes_per_frame:
            n = np.asarray(boxes).reshape(-1, 4).shape[0]
            out.append((kps[pos : pos + n], scs[pos : pos + n]))
            pos += n
        return out

    __call__ = estimate
