"""Model loader nodes: YOLOX + DWPose (ONNX), NLF (TorchScript), SAM 2.1.

Each lists the files found in its ComfyUI model folder (``extra_model_paths.yaml`` honoured),
plus the registry's file name so a missing file can be fetched on first use, but only when the
user switches ``download_if_missing`` on. The last loaded model of each kind (DWPose pair,
NLF, SAM2) is kept, keyed by its file(s) (path, modification time, size) and device/provider:
re-running a graph loads nothing again, a replaced file is loaded afresh, and switching files
or devices releases the previous model of that kind (at most one per kind stays alive).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from comfy_api.latest import io

from ..scail_pose_core.pipeline import SAM2_MODELS
from ..scail_pose_core.weights import WEIGHTS, resolve_weight
from . import _bridge
from .comfy_types import DWPoseModelIO, DWPoseModels, ModelHandle, NLFModelIO, SAM2ModelIO

LOGGER = logging.getLogger("scail_pose")

PROVIDERS = ("auto", "CUDA", "CPU")
DEVICES = ("auto", "cpu", "cuda")
#: kind -> (key, model): the one model per kind kept between runs (see :func:`_cached`).
_CACHE: dict[str, tuple[tuple, Any]] = {}

DOWNLOAD_TOOLTIP = (
    "Download the file when it is not in the model folder (Hugging Face / the publisher's "
    "release page), with progress. Off: a missing file stops the run with instructions."
)


def _choices(kind: str, *registry_names: str) -> list[str]:
    """Files found in the ``kind`` folders, then the registry names not found (downloadable)."""
    found = _bridge.list_model_files(kind)
    known = [WEIGHTS[n].filename for n in registry_names if WEIGHTS[n].filename not in found]
    return found + known


def _resolve(kind: str, filename: str, allow_download: bool) -> str:
    """Full path of ``filename``: found in ComfyUI's folders, else resolved/downloaded by name."""
    path = _bridge.model_path(kind, filename)
    if path is not None:
        return path
    name = next((k for k, s in WEIGHTS.items() if s.filename == filename), None)
    if name is None:
        from ..scail_pose_core.errors import MissingWeightsError

        raise MissingWeightsError(
            f"{filename!r} is not in the '{kind}' model folders {_bridge.model_dirs(kind)}. "
            "Put the file there (or pick another entry) and press Refresh (R)."
        )
    return str(
        resolve_weight(
            name,
            search_dirs=_bridge.model_dirs(kind),
            allow_download=allow_download,
            progress=_bridge.progress(WEIGHTS[name].size_bytes or 0) if allow_download else None,
            download_dir=_bridge.default_download_dir(kind),
        )
    )


def _file_id(path: str) -> tuple[str, int, int]:
    """(path, mtime in ns, size): changes when the file is replaced or rewritten."""
    st = os.stat(path)
    return (os.path.realpath(path), st.st_mtime_ns, st.st_size)


def _cached(kind: str, key: tuple, build: Callable[[], Any]) -> Any:
    """The model of ``kind`` for ``key``: reused when the key is unchanged, else built anew.

    Only one model per kind is kept: the previous one is dropped *before* building, so a
    switch (other file, replaced file, other device) never holds two large models at once.
    """
    held = _CACHE.get(kind)
    if held is not None and held[0] == key:
        return held[1]
    _CACHE.pop(kind, None)
    if held is not None:
        del held
        _bridge.soft_empty_cache()
    value = build()
    _CACHE[kind] = (key, value)
    return value


def _onnx_providers(choice: str) -> list[str] | None:
    return {"auto": None, "CUDA": ["CUDAExecutionProvider", "CPUExecutionProvider"],
            "CPU": ["CPUExecutionProvider"]}[choice]  # fmt: skip


def _torch_device(choice: str) -> str:
    return _bridge.device() if choice == "auto" else choice


def _fingerprint(kind: str, *filenames: str) -> tuple:
    """What ComfyUI compares to decide whether a loader re-runs: each file's mtime and size."""
    out = []
    for name in filenames:
        path = _bridge.model_path(kind, name)
        out.append(_file_id(path)[1:] if path else (-1, -1))
    return tuple(out)


class LoadDWPose(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        dets = _choices("detection", "yolox_l", "dwpose")
        det_default = WEIGHTS["yolox_l"].filename
        pose_default = WEIGHTS["dwpose"].filename
        return io.Schema(
            node_id="ScailPoseLoadDWPose",
            display_name="Load DWPose Models (YOLOX + DWPose)",
            category="SCAIL-Pose/loaders",
            description=(
                "Loads the YOLOX person detector and the DWPose whole-body estimator (ONNX) from "
                "ComfyUI/models/detection. Loaded once and reused across runs."
            ),
            inputs=[
                io.Combo.Input("detector_file", options=dets, default=det_default,
                               tooltip="YOLOX-L person detector (yolox_l.onnx)."),
                io.Combo.Input("pose_file", options=dets, default=pose_default,
                               tooltip="DWPose-L whole-body model (dw-ll_ucoco_384.onnx)."),
                io.Combo.Input("provider", options=list(PROVIDERS), default="auto",
                               tooltip="onnxruntime execution provider; auto = CUDA when "
                                       "your onnxruntime build has it, else CPU."),
                io.Boolean.Input("download_if_missing", default=False, tooltip=DOWNLOAD_TOOLTIP),
            ],
            outputs=[DWPoseModelIO.Output("dwpose_model", display_name="dwpose_model", tooltip="YOLOX + DWPose pair, "
                                          "for Detect Poses (DWPose).")],
        )  # fmt: skip

    @classmethod
    def fingerprint_inputs(cls, detector_file, pose_file, provider, download_if_missing):
        return _fingerprint("detection", detector_file, pose_file)

    @classmethod
    def execute(cls, detector_file, pose_file, provider, download_if_missing) -> io.NodeOutput:
        from ..scail_pose_core.detection import YoloxDetector
        from ..scail_pose_core.pose2d import DWPoseEstimator

        det_path = _resolve("detection", detector_file, download_if_missing)
        pose_path = _resolve("detection", pose_file, download_if_missing)
        prov = _onnx_providers(provider)

        def build() -> DWPoseModels:
            det = YoloxDetector.from_path(det_path, providers=prov)
            est = DWPoseEstimator.from_path(pose_path, providers=prov)
            used = tuple(getattr(getattr(est, "model", None), "providers", ()) or ())
            LOGGER.info("SCAIL-Pose DWPose pair loaded: %s + %s (providers %s)",
                        det_path, pose_path, ", ".join(used) or provider)  # fmt: skip
            return DWPoseModels(det, est, det_path, pose_path, used)

        key = (_file_id(det_path), _file_id(pose_path), provider)
        return io.NodeOutput(_cached("dwpose", key, build))


class LoadNLF(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ScailPoseLoadNLF",
            display_name="Load NLF Model",
            category="SCAIL-Pose/loaders",
            description=(
                "Loads the NLF 3D human pose model (TorchScript) from ComfyUI/models/nlf. "
                "Loaded once and reused across runs."
            ),
            inputs=[
                io.Combo.Input("model_file", options=_choices("nlf", "nlf"),
                               default=WEIGHTS["nlf"].filename,
                               tooltip="NLF-L multi-person TorchScript "
                                       "(nlf_l_multi_0.3.2.torchscript)."),
                io.Combo.Input("device", options=list(DEVICES), default="auto",
                               tooltip="auto = ComfyUI's device (GPU when there is one)."),
                io.Boolean.Input("download_if_missing", default=False, tooltip=DOWNLOAD_TOOLTIP),
            ],
            outputs=[NLFModelIO.Output("nlf_model", display_name="nlf_model", tooltip="NLF model, for Lift Poses to 3D.")],
        )  # fmt: skip

    @classmethod
    def fingerprint_inputs(cls, model_file, device, download_if_missing):
        return _fingerprint("nlf", model_file)

    @classmethod
    def execute(cls, model_file, device, download_if_missing) -> io.NodeOutput:
        from ..scail_pose_core.lift3d import load_nlf

        path = _resolve("nlf", model_file, download_if_missing)
        dev = _torch_device(device)

        def build() -> ModelHandle:
            model = load_nlf(path, device=dev)
            LOGGER.info("SCAIL-Pose NLF loaded: %s on %s", path, model.device)
            return ModelHandle(model, path, str(model.device))

        return io.NodeOutput(_cached("nlf", (_file_id(path), dev), build))


class LoadSAM2(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ScailPoseLoadSAM2",
            display_name="Load SAM2 Model",
            category="SCAIL-Pose/loaders",
            description=(
                "Loads a SAM 2.1 video segmentation checkpoint from ComfyUI/models/sam2 "
                "(needs the optional `sam2` package). Loaded once and reused across runs."
            ),
            inputs=[
                io.Combo.Input("model_file", options=_choices("sam2", *SAM2_MODELS),
                               default=WEIGHTS["sam2.1_large"].filename,
                               tooltip="SAM 2.1 checkpoint (sam2.1_hiera_*.pt); the reference "
                                       "uses large, tiny is fastest."),
                io.Combo.Input("device", options=list(DEVICES), default="auto",
                               tooltip="auto = ComfyUI's device (GPU when there is one)."),
                io.Boolean.Input("download_if_missing", default=False, tooltip=DOWNLOAD_TOOLTIP),
            ],
            outputs=[SAM2ModelIO.Output("sam2_model", display_name="sam2_model",
                                        tooltip="SAM2 model, for Segment Characters (SAM2).")],
        )  # fmt: skip

    @classmethod
    def fingerprint_inputs(cls, model_file, device, download_if_missing):
        return _fingerprint("sam2", model_file)

    @classmethod
    def execute(cls, model_file, device, download_if_missing) -> io.NodeOutput:
        from ..scail_pose_core.segment import Sam2Segmenter

        path = _resolve("sam2", model_file, download_if_missing)
        dev = _torch_device(device)

        def build() -> ModelHandle:
            seg = Sam2Segmenter.from_path(path, device=dev)
            used = str(getattr(seg, "device", dev))
            LOGGER.info("SCAIL-Pose SAM2 loaded: %s on %s", path, used)
            return ModelHandle(seg, path, used)

        return io.NodeOutput(_cached("sam2", (_file_id(path), dev), build))


NODES = [LoadDWPose, LoadNLF, LoadSAM2]
