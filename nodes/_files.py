"""File names inside ComfyUI's output folder, never outside it whatever the user typed."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..scail_pose_core.errors import InputError
from . import _bridge


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


#: The pack's own subfolder of the output folder: Load Pose Sequence lists files only here.
POSE_SUBFOLDER = "scail_pose"
#: What Save Pose Sequence writes: ``<name>_NNNNN.json|.npz`` (the counter of :func:`output_path`).
POSE_NAME = re.compile(r"^[^/\\]+_\d{5}\.(?:json|npz)$", re.IGNORECASE)
#: Bounds of the listing (it runs on every /object_info): folder depth, entries looked at,
#: files listed.
MAX_DEPTH = 4
MAX_SCANNED = 5000
MAX_LISTED = 500


def list_pose_files() -> list[str]:
    """Saved pose sequences under ``<output>/scail_pose/`` (relative to the output folder,
    sorted): names of the form ``<name>_NNNNN.json|.npz`` only, at most :data:`MAX_DEPTH`
    folders deep, :data:`MAX_LISTED` files and :data:`MAX_SCANNED` entries looked at.

    Other .json files (saved workflows, other packs' output) are never listed; the check is by
    name, so listing costs no file reads however large the output folder is.
    """
    root = os.path.join(_bridge.output_dir(), POSE_SUBFOLDER)
    found: list[str] = []
    scanned = 0
    pending = [(root, 0)]
    while pending and scanned < MAX_SCANNED and len(found) < MAX_LISTED:
        folder, depth = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            scanned += 1
            if scanned > MAX_SCANNED or len(found) >= MAX_LISTED:
                break
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth + 1 < MAX_DEPTH:
                        pending.append((entry.path, depth + 1))
                elif POSE_NAME.match(entry.name) and entry.is_file():
                    rel = os.path.relpath(entry.path, _bridge.output_dir())
                    found.append(rel.replace(os.sep, "/"))
            except OSError:
                continue
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
