"""The only module that touches ComfyUI's runtime: model folders, device, progress, cancel.

Model folders registered here (``extra_model_paths.yaml`` entries for the same names are kept,
because ComfyUI loads that file before custom nodes and ``add_model_folder_path`` appends):

* ``detection``: YOLOX + DWPose ONNX files (the folder WanAnimatePreprocess also uses),
* ``nlf``: the NLF TorchScript model,
* ``sam2``: SAM2.1 checkpoints.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import comfy.model_management
import comfy.utils
import folder_paths

LOGGER = logging.getLogger("scail_pose")

MODEL_FOLDERS: dict[str, tuple[str, ...]] = {
    "detection": (".onnx",),
    "nlf": (".pt", ".torchscript", ".pth"),
    "sam2": (".pt", ".pth", ".safetensors"),
}


def register_model_folders() -> None:
    """Add ``models/<name>`` for every folder we use (idempotent)."""
    models_dir = getattr(folder_paths, "models_dir", None)
    for name in MODEL_FOLDERS:
        if models_dir is not None:
            folder_paths.add_model_folder_path(name, os.path.join(models_dir, name))


def model_dirs(kind: str) -> list[str]:
    """Every folder searched for ``kind`` (ComfyUI's models dir first, then extra paths)."""
    try:
        return folder_paths.get_folder_paths(kind)
    except KeyError:
        return []


def list_model_files(kind: str) -> list[str]:
    """Files found in the ``kind`` folders whose extension fits, relative to their folder."""
    exts = MODEL_FOLDERS[kind]
    try:
        names = folder_paths.get_filename_list(kind)
    except KeyError:
        return []
    return [n for n in names if n.lower().endswith(exts)]


def model_path(kind: str, filename: str) -> str | None:
    """Full path of ``filename`` in the ``kind`` folders, or None when it is not there."""
    return folder_paths.get_full_path(kind, filename)


def default_download_dir(kind: str) -> str:
    """Where a download for ``kind`` goes: the first registered folder."""
    dirs = model_dirs(kind)
    return dirs[0] if dirs else os.path.join(folder_paths.models_dir, kind)


def output_dir() -> str:
    return os.path.abspath(folder_paths.get_output_directory())


def device() -> str:
    """ComfyUI's torch device as a string ("cuda:0", "cpu", "mps", ...)."""
    return str(comfy.model_management.get_torch_device())


def progress(total: int) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback driving a ComfyUI progress bar of the running node."""
    bar = comfy.utils.ProgressBar(max(int(total), 1))

    def report(done: int, total_now: int) -> None:
        bar.update_absolute(int(done), int(total_now) if total_now else None)

    return report


def check_cancel() -> None:
    """Raise ComfyUI's interrupt exception when the user pressed cancel."""
    comfy.model_management.throw_exception_if_processing_interrupted()


def soft_empty_cache() -> None:
    comfy.model_management.soft_empty_cache()
