"""Stand-in ONNX models for YOLOX and DWPose, built with ``onnx.helper`` at test time.

They have the real models' tensor names, shapes and dynamic axes (environment_notes.md §6) and
plant known answers; files are a few kB and are built in a temporary directory. Import from any
test (``tests/`` is on ``sys.path`` through conftest)::

    from standin_onnx import build_yolox_standin, build_dwpose_standin, draw_person_markers

* :func:`build_yolox_standin` — ``images`` [1|batch, 3, 640, 640] → ``output`` [., 8400, 85]
  that decodes to the planted boxes (640-letterbox pixels) whatever the image is.
* :func:`build_dwpose_standin` — ``input`` [batch|1, 3, 384, 288] → ``simcc_x`` [., 133, 576],
  ``simcc_y`` [., 133, 768].
  ``mode="markers"`` (default) reads the crop: each keypoint k is the intensity centroid of the
  coloured marker blob with colour code ``codes[k]`` (see :data:`MARKER_RGB`; a pixel counts for
  a code when its "off" channels are below half its "on" channels), so keypoints are
  found only if cropping, the BGR order, normalisation, SimCC decoding and back-projection are
  all right. Draw markers with :func:`draw_person_markers`; :func:`expected_keypoints` gives the
  planted image-space answer. ``mode="constant"`` plants fixed keypoints in crop-input pixels
  (cheap; for benchmarks).
* :func:`build_constant_model` — any input/output names and static shapes (wrong-shape tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
YOLOX_STRIDES = (8, 16, 32)

#: Marker colour codes (RGB) read by the DWPose stand-in; code 0 means "no marker".
MARKER_RGB: dict[int, tuple[int, int, int]] = {
    1: (255, 0, 0), 2: (0, 255, 0), 3: (0, 0, 255), 4: (255, 255, 0),
    5: (255, 0, 255), 6: (0, 255, 255), 7: (255, 255, 255),
}  # fmt: skip
#: Where each code's marker sits, as a fraction of the person box (x, y).
MARKER_LAYOUT: dict[int, tuple[float, float]] = {
    1: (0.30, 0.18), 2: (0.72, 0.22), 3: (0.50, 0.42), 4: (0.24, 0.60),
    5: (0.78, 0.64), 6: (0.38, 0.86), 7: (0.64, 0.80),
}  # fmt: skip
#: Keypoints with no marker (score 0) and with a weak peak (score 0.2 < 0.3) by default.
ABSENT_KEYPOINTS = (3, 50, 100)
WEAK_KEYPOINTS = (4, 60, 120)


def default_codes() -> np.ndarray:
    """(133,) int64 marker code per keypoint: 1 + k mod 7, 0 for :data:`ABSENT_KEYPOINTS`."""
    codes = 1 + np.arange(133) % 7
    codes[list(ABSENT_KEYPOINTS)] = 0
    return codes.astype(np.int64)


def default_peaks() -> np.ndarray:
    """(133,) float32 planted score per keypoint: 0.9, 0.2 for :data:`WEAK_KEYPOINTS`."""
    p = np.full(133, 0.9, np.float32)
    p[list(WEAK_KEYPOINTS)] = 0.2
    return p


def _save(graph: onnx.GraphProto, path: str | Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    p = Path(path)
    onnx.save(model, str(p))
    return p


def _const(name: str, arr: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(arr, name))


# ---------------------------------------------------------------------------------------------
# YOLOX
# ---------------------------------------------------------------------------------------------
def yolox_anchor_count(input_hw: tuple[int, int] = (640, 640)) -> int:
    return sum((input_hw[0] // s) * (input_hw[1] // s) for s in YOLOX_STRIDES)


def encode_yolox_rows(
    boxes_xyxy_640: Sequence[Sequence[float]],
    scores: Sequence[float] | None = None,
    classes: Sequence[int] | None = None,
    num_classes: int = 80,
    input_hw: tuple[int, int] = (640, 640),
) -> tuple[np.ndarray, np.ndarray]:
    """Raw YOLOX rows that decode to the given boxes: (anchor indices (n,), rows (n, 5+C)).

    Each box uses a free anchor of the coarsest level whose cell holds its centre:
    raw = [cx/s − gx, cy/s − gy, ln(w/s), ln(h/s), obj, class probs] with obj = 0.95 and
    prob[class] = score / 0.95.
    """
    boxes = np.asarray(boxes_xyxy_640, np.float64).reshape(-1, 4)
    n = boxes.shape[0]
    scores = np.full(n, 0.9) if scores is None else np.asarray(scores, np.float64)
    classes = np.zeros(n, np.int64) if classes is None else np.asarray(classes, np.int64)
    offsets, off = {}, 0
    for s in YOLOX_STRIDES:
        offsets[s] = off
        off += (input_hw[0] // s) * (input_hw[1] // s)
    used: set[int] = set()
    idx = np.zeros(n, np.int64)
    rows = np.zeros((n, 5 + num_classes), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        for s in reversed(YOLOX_STRIDES):
            gw, gh = input_hw[1] // s, input_hw[0] // s
            gx = int(np.clip(cx // s, 0, gw - 1))
            gy = int(np.clip(cy // s, 0, gh - 1))
            a = offsets[s] + gy * gw + gx
            if a not in used:
                break
        else:
            raise ValueError(f"no free anchor for box {i} {boxes[i]}")
        used.add(a)
        idx[i] = a
        rows[i, :4] = (cx / s - gx, cy / s - gy, np.log(w / s), np.log(h / s))
        rows[i, 4] = 0.95
        rows[i, 5 + classes[i]] = scores[i] / 0.95
    return idx, rows


def build_yolox_standin(
    path: str | Path,
    boxes_xyxy_640: Sequence[Sequence[float]],
    scores: Sequence[float] | None = None,
    classes: Sequence[int] | None = None,
    dynamic_batch: bool = False,
    input_hw: tuple[int, int] = (640, 640),
    num_classes: int = 80,
) -> Path:
    """A yolox_l-like model: ``images`` [1 or "batch", 3, h, w] → ``output`` [., A, 5+C].

    The output is the same for every image: rows planted with :func:`encode_yolox_rows` (boxes in
    letterboxed model-input pixels, default score 0.9, class 0), every other row has objectness 0.
    The output depends on the input only through ``0 · mean(images)`` (so the batch flows through).
    """
    a = yolox_anchor_count(input_hw)
    k = 5 + num_classes
    idx, rows = encode_yolox_rows(boxes_xyxy_640, scores, classes, num_classes, input_hw)
    base = np.zeros((1, 1, k), np.float32)
    base[..., 2:4] = np.log(1 / 8)
    b = "batch" if dynamic_batch else 1
    nodes = [
        _const("base", base),
        _const("full_shape", np.array([1, a, k], np.int64)),
        helper.make_node("Expand", ["base", "full_shape"], ["dense"]),
    ]
    data = "dense"
    if len(idx):
        nodes += [
            _const("rows_idx", np.stack([np.zeros_like(idx), idx], axis=1)),
            _const("rows_val", rows),
            helper.make_node("ScatterND", ["dense", "rows_idx", "rows_val"], ["planted"]),
        ]
        data = "planted"
    nodes += [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=1),
        _const("shape_b11", np.array([-1, 1, 1], np.int64)),
        helper.make_node("Reshape", ["m", "shape_b11"], ["m3"]),
        _const("zero", np.array(0.0, np.float32)),
        helper.make_node("Mul", ["m3", "zero"], ["z"]),
        helper.make_node("Add", [data, "z"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "yolox_standin",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [b, 3, *input_hw])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [b, a, k])],
    )
    return _save(graph, path)


# ---------------------------------------------------------------------------------------------
# DWPose
# ---------------------------------------------------------------------------------------------
MEAN_BGR = np.array([123.675, 116.28, 103.53], np.float32)
STD_BGR = np.array([58.395, 57.12, 57.375], np.float32)


def build_dwpose_standin(
    path: str | Path,
    mode: str = "markers",
    dynamic_batch: bool = True,
    codes: np.ndarray | None = None,
    peaks: np.ndarray | None = None,
    keypoints_crop: np.ndarray | None = None,
    input_hw: tuple[int, int] = (384, 288),
    split_ratio: float = 2.0,
    sigma: float = 2.0,
    num_keypoints: int = 133,
) -> Path:
    """A dw-ll_ucoco_384-like model: ``input`` [batch|1, 3, h, w] → ``simcc_x`` [., K, 2w],
    ``simcc_y`` [., K, 2h] (Gaussian profiles of width ``sigma`` crop pixels, peak = score).

    Args:
        mode: "markers" — keypoint k is the intensity centroid of the marker of colour code
            ``codes[k]`` in the (de-normalised, BGR) crop, with peak ``peaks[k]`` (scaled down to 0
            when the marker is absent). "constant" — keypoint k is ``keypoints_crop[k]`` in crop
            pixels whatever the input, with peak ``peaks[k]``.
        codes: (K,) int marker codes 0–7 (default :func:`default_codes`).
        peaks: (K,) float planted scores (default :func:`default_peaks`).
        keypoints_crop: (K, 2) crop-input pixels for "constant" mode (default: a grid).
    """
    h, w = input_hw
    k = num_keypoints
    peaks = default_peaks()[:k] if peaks is None else np.asarray(peaks, np.float32)
    b = "batch" if dynamic_batch else 1
    wx, wy = int(w * split_ratio), int(h * split_ratio)
    bins_x = (np.arange(wx, dtype=np.float32) / split_ratio).reshape(1, 1, wx)
    bins_y = (np.arange(wy, dtype=np.float32) / split_ratio).reshape(1, 1, wy)
    nodes = [
        _const("bins_x", bins_x),
        _const("bins_y", bins_y),
        _const("inv2s2", np.array(-0.5 / sigma**2, np.float32)),
        _const("ax2", np.array([2], np.int64)),
    ]
    if mode == "constant":
        if keypoints_crop is None:
            g = np.arange(k)
            keypoints_crop = np.stack([20 + (g % 12) * 21.0, 20 + (g // 12) * 30.0], axis=1)
        kc = np.asarray(keypoints_crop, np.float32).reshape(1, k, 2)
        nodes += [
            helper.make_node("ReduceMean", ["input"], ["m"], axes=[1, 2, 3], keepdims=1),
            _const("shape_b1", np.array([-1, 1], np.int64)),
            helper.make_node("Reshape", ["m", "shape_b1"], ["m2"]),
            _const("zero", np.array(0.0, np.float32)),
            helper.make_node("Mul", ["m2", "zero"], ["z"]),  # [N, 1]
            _const("kx", kc[..., 0]),
            _const("ky", kc[..., 1]),
            helper.make_node("Add", ["kx", "z"], ["cx"]),  # [N, K]
            helper.make_node("Add", ["ky", "z"], ["cy"]),
            _const("amp0", peaks.reshape(1, k)),
            helper.make_node("Add", ["amp0", "z"], ["amp"]),
        ]
    elif mode == "markers":
        codes = default_codes()[:k] if codes is None else np.asarray(codes, np.int64)
        nodes += [
            _const("std", STD_BGR.reshape(1, 3, 1, 1) / 255.0),
            _const("mean", MEAN_BGR.reshape(1, 3, 1, 1) / 255.0),
            helper.make_node("Mul", ["input", "std"], ["xstd"]),
            helper.make_node("Add", ["xstd", "mean"], ["v"]),  # [N, 3, h, w] in [0, 1], BGR
            helper.make_node("Split", ["v"], ["v_b", "v_g", "v_r"], axis=1),
            _const("half", np.array(0.5, np.float32)),
        ]
        rgb_names = ("v_r", "v_g", "v_b")
        weights = []
        for code, rgb in MARKER_RGB.items():
            on = [rgb_names[c] for c in range(3) if rgb[c]]
            off = [rgb_names[c] for c in range(3) if not rgb[c]]
            wname = f"w{code}"
            nodes.append(helper.make_node("Min", on, [f"on{code}"]) if len(on) > 1 else
                         helper.make_node("Identity", on, [f"on{code}"]))  # fmt: skip
            if off:
                nodes += [
                    helper.make_node("Max", off, [f"off{code}"]) if len(off) > 1 else
                    helper.make_node("Identity", off, [f"off{code}"]),
                    helper.make_node("Mul", [f"on{code}", "half"], [f"onh{code}"]),
                    helper.make_node("Less", [f"off{code}", f"onh{code}"], [f"ok{code}"]),
                    helper.make_node("Cast", [f"ok{code}"], [f"okf{code}"], to=TensorProto.FLOAT),
                    helper.make_node("Mul", [f"on{code}", f"okf{code}"], [wname]),
                ]  # fmt: skip
            else:
                nodes.append(helper.make_node("Identity", [f"on{code}"], [wname]))
            weights.append(wname)
        xs = np.arange(w, dtype=np.float32).reshape(1, 1, 1, w)
        ys = np.arange(h, dtype=np.float32).reshape(1, 1, h, 1)
        nodes += [
            helper.make_node("Concat", weights, ["wt"], axis=1),  # [N, 7, h, w]
            _const("ax23", np.array([2, 3], np.int64)),
            _const("xs", xs),
            _const("ys", ys),
            helper.make_node("ReduceSum", ["wt", "ax23"], ["tot"], keepdims=0),  # [N, 7]
            helper.make_node("Mul", ["wt", "xs"], ["wx"]),
            helper.make_node("Mul", ["wt", "ys"], ["wy"]),
            helper.make_node("ReduceSum", ["wx", "ax23"], ["sx"], keepdims=0),
            helper.make_node("ReduceSum", ["wy", "ax23"], ["sy"], keepdims=0),
            _const("eps", np.array(1e-6, np.float32)),
            helper.make_node("Add", ["tot", "eps"], ["tot_e"]),
            helper.make_node("Div", ["sx", "tot_e"], ["mx"]),
            helper.make_node("Div", ["sy", "tot_e"], ["my"]),
            _const("pad01", np.array([0, 1, 0, 0], np.int64)),  # slot 0 = "no marker"
            helper.make_node("Pad", ["mx", "pad01"], ["mx8"]),
            helper.make_node("Pad", ["my", "pad01"], ["my8"]),
            helper.make_node("Pad", ["tot", "pad01"], ["tot8"]),
            _const("codes", codes),
            helper.make_node("Gather", ["mx8", "codes"], ["cx"], axis=1),  # [N, K]
            helper.make_node("Gather", ["my8", "codes"], ["cy"], axis=1),
            helper.make_node("Gather", ["tot8", "codes"], ["totk"], axis=1),
            _const("lo", np.array(0.0, np.float32)),
            _const("hi", np.array(1.0, np.float32)),
            helper.make_node("Clip", ["totk", "lo", "hi"], ["present"]),
            _const("peaks", peaks.reshape(1, k)),
            helper.make_node("Mul", ["present", "peaks"], ["amp"]),
        ]
    else:
        raise ValueError(f"mode must be 'markers' or 'constant', got {mode!r}")
    for axis, bins in (("x", "bins_x"), ("y", "bins_y")):
        nodes += [
            helper.make_node("Unsqueeze", [f"c{axis}", "ax2"], [f"c{axis}3"]),
            helper.make_node("Sub", [bins, f"c{axis}3"], [f"d{axis}"]),
            helper.make_node("Mul", [f"d{axis}", f"d{axis}"], [f"d2{axis}"]),
            helper.make_node("Mul", [f"d2{axis}", "inv2s2"], [f"e{axis}"]),
            helper.make_node("Exp", [f"e{axis}"], [f"g{axis}"]),
            helper.make_node("Unsqueeze", ["amp", "ax2"], [f"amp3{axis}"]),
            helper.make_node("Mul", [f"g{axis}", f"amp3{axis}"], [f"simcc_{axis}"]),
        ]
    graph = helper.make_graph(
        nodes,
        f"dwpose_standin_{mode}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [b, 3, h, w])],
        [
            helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [b, k, wx]),
            helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [b, k, wy]),
        ],
    )
    return _save(graph, path)


# ---------------------------------------------------------------------------------------------
# Markers (what the "markers" DWPose stand-in reads)
# ---------------------------------------------------------------------------------------------
def person_markers(box_xyxy: Sequence[float]) -> dict[int, tuple[float, float]]:
    """Image positions (x, y) of the 7 markers of a person in ``box_xyxy`` (sub-pixel)."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    return {
        code: (x1 + fx * (x2 - x1) + 0.37, y1 + fy * (y2 - y1) + 0.21)
        for code, (fx, fy) in MARKER_LAYOUT.items()
    }


def draw_marker(
    image_rgb: np.ndarray, xy: tuple[float, float], code: int, sigma: float = 1.6, radius: int = 6
) -> None:
    """Add a Gaussian blob of colour ``MARKER_RGB[code]`` centred at sub-pixel ``xy`` (in place)."""
    h, w = image_rgb.shape[:2]
    x0, y0 = xy
    xa, xb = max(0, int(np.floor(x0)) - radius), min(w, int(np.floor(x0)) + radius + 2)
    ya, yb = max(0, int(np.floor(y0)) - radius), min(h, int(np.floor(y0)) + radius + 2)
    if xa >= xb or ya >= yb:
        return
    gx, gy = np.meshgrid(np.arange(xa, xb), np.arange(ya, yb))
    blob = np.round(255 * np.exp(-((gx - x0) ** 2 + (gy - y0) ** 2) / (2 * sigma**2)))
    for c in range(3):
        if MARKER_RGB[code][c]:
            patch = image_rgb[ya:yb, xa:xb, c]
            np.maximum(patch, blob.astype(np.uint8), out=patch)


def draw_person_markers(image_rgb: np.ndarray, box_xyxy: Sequence[float]) -> dict:
    """Draw one person's 7 markers inside ``box_xyxy``; return their positions (see
    :func:`person_markers`)."""
    markers = person_markers(box_xyxy)
    for code, xy in markers.items():
        draw_marker(image_rgb, xy, code)
    return markers


def expected_keypoints(
    markers: dict[int, tuple[float, float]], codes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Planted answer: (K, 2) image pixels (NaN where absent) and (K,) bool "marker present"."""
    codes = default_codes() if codes is None else np.asarray(codes)
    kp = np.full((codes.shape[0], 2), np.nan)
    for k, c in enumerate(codes):
        if c in markers:
            kp[k] = markers[int(c)]
    return kp, ~np.isnan(kp[:, 0])


# ---------------------------------------------------------------------------------------------
# Arbitrary constant models (wrong-shape tests)
# ---------------------------------------------------------------------------------------------
def build_constant_model(
    path: str | Path,
    input_name: str,
    input_shape: Sequence[int | str],
    outputs: dict[str, Sequence[int]],
) -> Path:
    """A model with one float input and static-shape zero outputs (depending on the input only
    through ``0 · mean(input)``)."""
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["m"], keepdims=0),
        _const("zero", np.array(0.0, np.float32)),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
    ]
    outs = []
    for name, shape in outputs.items():
        nodes += [
            _const(f"{name}_c", np.zeros(tuple(shape), np.float32)),
            helper.make_node("Add", [f"{name}_c", "z"], [name]),
        ]
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
    graph = helper.make_graph(
        nodes,
        "constant_model",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))],
        outs,
    )
    return _save(graph, path)
