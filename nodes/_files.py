"""File names inside ComfyUI's output folder, never outside it whatever the user typed."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..scail_pose_core.errors import InputError
from . import _bridge

POSE_SUFFIXES = (".json", ".npz")


def _inside(root: Path, path: Path) -> bool:
    return os.path.commonpath([str(root), str(path)]) == str(root)


def output_path(prefix: str, suffix: str) -> Path:
    """Next free ``<output>/<prefix>_NNNNN<suffix>``; InputError if the prefix leaves the folder."""
    root = Path(os.path.realpath(_bridge.output_dir()))
    clean = (prefix or "scail_pose").strip().replace("\\", "/")
    target = Path(os.path.realpath(root / clean))
    if os.path.isabs(clean) or not _inside(root, target) or target == root:
        raise InputError(
            f"filename_prefix {prefix!r} points outside ComfyUI's output folder; use a relative "
            "name such as 'scail_pose/run1'."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(re.escape(target.name) + r"_(\d{5})" + re.escape(suffix) + "$")
    used = [int(m.group(1)) for f in os.listdir(target.parent) if (m := pattern.match(f))]
    return target.parent / f"{target.name}_{max(used, default=0) + 1:05d}{suffix}"


def relative_to_output(path: Path) -> tuple[str, str]:
    """(subfolder, filename) of a file in the output folder, as ComfyUI's UI expects."""
    rel = Path(os.path.relpath(path, os.path.realpath(_bridge.output_dir())))
    return (str(rel.parent) if str(rel.parent) != "." else ""), rel.name


def list_pose_files() -> list[str]:
    """Pose-sequence files (.json/.npz) under the output folder, relative, sorted."""
    root = _bridge.output_dir()
    found = []
    for base, _dirs, files in os.walk(root):
        for f in files:
            if f.lower().endswith(POSE_SUFFIXES):
                found.append(os.path.relpath(os.path.join(base, f), root).replace(os.sep, "/"))
    return sorted(found)


def existing_output_file(name: str) -> Path:
    """Full path of ``name`` inside the output folder; InputError outside it or when missing."""
    root = Path(os.path.realpath(_bridge.output_dir()))
    path = Path(os.path.realpath(root / (name or "")))
    if os.path.isabs(name or "") or not _inside(root, path) or not path.is_file():
        raise InputError(
            f"pose file {name!r} is not a file inside ComfyUI's output folder {root}; save one "
            "with Save Pose Sequence first (or press Refresh)."
        )
    return path
