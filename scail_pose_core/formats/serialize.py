"""Our own save format for :class:`PoseSequence`: versioned JSON or NPZ, exact round trip.

Both carry the same content (format name ``scail_pose.sequence``, ``version`` 1):

* header: ``size_hw`` (H, W), ``fps``, ``camera`` (fx, fy, cx, cy), ``meta`` (JSON values);
* per frame: ``detections``, ``pose2d`` and ``pose3d``, each absent (null) or holding every
  array field of the dataclass (see :data:`FIELDS`).

JSON stores arrays as nested lists; Python writes floats with round-trip precision, so float32
and float64 values come back bit-identical (NaN/inf are written as the JSON extensions ``NaN``
and ``Infinity``). NPZ stores, per component, the frames' arrays concatenated along the person
axis plus ``<component>_count`` (T,) and ``<component>_present`` (T,), and the header as a JSON
string; it loads with ``allow_pickle=False``. numpy values inside ``meta`` are stored as plain
JSON numbers/lists (tuples become lists).
"""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..types import Camera, Detections, Pose2D, Pose3D, PoseFrame, PoseSequence

FORMAT_NAME = "scail_pose.sequence"
FORMAT_VERSION = 1

#: component → field → (shape after the person axis, dtype)
FIELDS: dict[str, dict[str, tuple[tuple[int, ...], Any]]] = {
    "detections": {"boxes_xyxy": ((4,), np.float32), "scores": ((), np.float32)},
    "pose2d": {
        "body_norm": ((24, 2), np.float64),
        "body_scores": ((24,), np.float32),
        "face_norm": ((68, 2), np.float64),
        "face_scores": ((68,), np.float32),
        "lhand_norm": ((21, 2), np.float64),
        "lhand_scores": ((21,), np.float32),
        "rhand_norm": ((21, 2), np.float64),
        "rhand_scores": ((21,), np.float32),
        "track_ids": ((), np.int32),
    },
    "pose3d": {
        "joints_mm": ((24, 3), np.float32),
        "present": ((), np.bool_),
        "track_ids": ((), np.int32),
    },
}
_CLASSES = {"detections": Detections, "pose2d": Pose2D, "pose3d": Pose3D}


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _header(seq: PoseSequence) -> dict[str, Any]:
    cam = seq.camera
    try:
        meta = json.loads(json.dumps(seq.meta, default=_json_default))
    except (TypeError, ValueError) as exc:
        raise InputError(f"PoseSequence.meta must hold JSON values only: {exc}") from exc
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "size_hw": [int(seq.size_hw[0]), int(seq.size_hw[1])],
        "fps": float(seq.fps),
        "camera": {"fx": cam.fx, "fy": cam.fy, "cx": cam.cx, "cy": cam.cy},
        "meta": meta,
        "num_frames": len(seq),
    }


def _check_header(d: Any, where: str) -> dict[str, Any]:
    if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
        got = d.get("format") if isinstance(d, dict) else type(d).__name__
        raise InputError(f"{where}: not a saved scail-pose sequence (format {got!r})")
    ver = d.get("version")
    if not isinstance(ver, int) or ver > FORMAT_VERSION or ver < 1:
        raise InputError(
            f"{where}: format version {ver!r} is not supported (this scail-pose reads versions "
            f"1..{FORMAT_VERSION}); update scail-pose"
        )
    for key in ("size_hw", "fps", "camera"):
        if key not in d:
            raise InputError(f"{where}: missing field {key!r}")
    return d


def _sequence(header: dict[str, Any], frames: list[PoseFrame]) -> PoseSequence:
    h, w = (int(v) for v in header["size_hw"])
    c = header["camera"]
    cam = Camera(fx=float(c["fx"]), fy=float(c["fy"]), cx=float(c["cx"]), cy=float(c["cy"]),
                 size_hw=(h, w))  # fmt: skip
    return PoseSequence(
        frames=tuple(frames), size_hw=(h, w), fps=float(header["fps"]), camera=cam,
        meta=dict(header.get("meta") or {}),
    )  # fmt: skip


def _component(name: str, arrays: dict[str, Any], where: str) -> Any:
    kwargs = {}
    for field, (tail, dtype) in FIELDS[name].items():
        if field not in arrays:
            raise InputError(f"{where}.{name}: missing field {field!r}")
        a = np.asarray(arrays[field], dtype=dtype)
        kwargs[field] = a.reshape((-1, *tail)) if a.size == 0 else a
    return _CLASSES[name](**kwargs)


def sequence_to_dict(seq: PoseSequence) -> dict[str, Any]:
    """A JSON-serialisable dict of ``seq`` (header fields + ``frames`` as nested lists)."""
    d = _header(seq)
    frames = []
    for fr in seq.frames:
        entry: dict[str, Any] = {}
        for name, fields in FIELDS.items():
            obj = getattr(fr, name)
            entry[name] = None if obj is None else {f: getattr(obj, f).tolist() for f in fields}
        frames.append(entry)
    d["frames"] = frames
    return d


def sequence_from_dict(d: dict[str, Any]) -> PoseSequence:
    """Inverse of :func:`sequence_to_dict` (validates format name, version and shapes)."""
    header = _check_header(d, "sequence dict")
    frames_in = d.get("frames")
    if not isinstance(frames_in, list):
        raise InputError("sequence dict: 'frames' must be a list")
    frames = []
    for t, fr in enumerate(frames_in):
        where = f"frames[{t}]"
        parts = {}
        for name in FIELDS:
            val = fr.get(name) if isinstance(fr, dict) else None
            parts[name] = None if val is None else _component(name, val, where)
        frames.append(PoseFrame(**parts))
    return _sequence(header, frames)


def _npz_arrays(seq: PoseSequence) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {
        "header": np.array(json.dumps(_header(seq), allow_nan=True)),
    }
    for name, fields in FIELDS.items():
        objs = [getattr(fr, name) for fr in seq.frames]
        out[f"{name}_present"] = np.array([o is not None for o in objs], np.bool_)
        out[f"{name}_count"] = np.array(
            [0 if o is None else getattr(o, next(iter(fields))).shape[0] for o in objs], np.int64
        )
        for f, (tail, dtype) in fields.items():
            parts = [getattr(o, f) for o in objs if o is not None]
            out[f"{name}.{f}"] = (
                np.concatenate(parts, axis=0) if parts else np.zeros((0, *tail), dtype)
            )
    return out


def _npz_sequence(z: Any, where: str) -> PoseSequence:
    try:
        header = json.loads(str(z["header"][()]))
    except (KeyError, ValueError) as exc:
        raise InputError(f"{where}: not a saved scail-pose sequence ({exc})") from exc
    header = _check_header(header, where)
    t_count = int(header.get("num_frames", 0))
    comps: dict[str, list[Any]] = {}
    for name, fields in FIELDS.items():
        try:
            present = z[f"{name}_present"]
            counts = z[f"{name}_count"]
            arrays = {f: z[f"{name}.{f}"] for f in fields}
        except KeyError as exc:
            raise InputError(f"{where}: missing array {exc}") from exc
        if present.shape != (t_count,) or counts.shape != (t_count,):
            raise InputError(
                f"{where}: {name}_present/{name}_count have shapes {present.shape}/"
                f"{counts.shape}, expected ({t_count},)"
            )
        offsets = np.concatenate([[0], np.cumsum(counts)])
        items: list[Any] = []
        for t in range(t_count):
            if not present[t]:
                items.append(None)
                continue
            sl = slice(int(offsets[t]), int(offsets[t + 1]))
            items.append(_component(name, {f: a[sl] for f, a in arrays.items()}, where))
        comps[name] = items
    frames = [PoseFrame(**{n: comps[n][t] for n in FIELDS}) for t in range(t_count)]
    return _sequence(header, frames)


def _atomic_write(path: Path, data: bytes) -> None:
    if not path.parent.is_dir():
        raise InputError(f"folder {str(path.parent)!r} does not exist")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_sequence(seq: PoseSequence, path: str | os.PathLike[str]) -> Path:
    """Save ``seq`` as ``.json`` or ``.npz`` (chosen by the suffix), atomically. Returns the path."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        text = json.dumps(sequence_to_dict(seq), separators=(",", ":"), allow_nan=True)
        _atomic_write(p, text.encode("utf-8"))
    elif suffix == ".npz":
        buf = io.BytesIO()
        np.savez_compressed(buf, **_npz_arrays(seq))
        _atomic_write(p, buf.getvalue())
    else:
        raise InputError(f"save_sequence: use a .json or .npz file name, got {p.name!r}")
    return p


def load_sequence(path: str | os.PathLike[str]) -> PoseSequence:
    """Load a sequence written by :func:`save_sequence` (``.json`` or ``.npz``)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"pose file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".json":
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{p.name}: not valid JSON ({exc})") from exc
        return sequence_from_dict(d)
    if suffix == ".npz":
        try:
            with np.load(p, allow_pickle=False) as z:
                return _npz_sequence(z, p.name)
        except (OSError, ValueError) as exc:
            raise InputError(f"{p.name}: not a readable .npz file ({exc})") from exc
    raise InputError(f"load_sequence: expected a .json or .npz file, got {p.name!r}")
