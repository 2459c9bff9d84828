"""Install the ComfyUI stand-in into ``sys.modules`` when the real modules are absent."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = ("comfy_api", "comfy_api.latest", "comfy", "comfy.utils", "comfy.model_management",
           "folder_paths")  # fmt: skip


def install() -> str:
    """Make ``comfy_api.latest``/``folder_paths``/``comfy.*`` importable; return which ones.

    Returns ``"real"`` when a ComfyUI checkout is used (``COMFYUI_ROOT`` or already importable),
    ``"fake"`` when the stand-in was installed.
    """
    root = os.environ.get("COMFYUI_ROOT")
    if root and root not in sys.path:
        sys.path.insert(0, root)
    if "folder_paths" in sys.modules:
        return "fake" if getattr(sys.modules["folder_paths"], "IS_FAKE", False) else "real"
    if importlib.util.find_spec("folder_paths") is not None:
        import torch
        from comfy.cli_args import args

        if not torch.cuda.is_available():
            args.cpu = True  # as `main.py --cpu`: model_management must not probe CUDA
        importlib.import_module("comfy_api.latest")
        return "real"
    sys.path.insert(0, str(HERE))
    try:
        for name in MODULES:
            importlib.import_module(name)
    finally:
        sys.path.remove(str(HERE))
    return "fake"


def is_fake() -> bool:
    return bool(getattr(sys.modules.get("folder_paths"), "IS_FAKE", False))
