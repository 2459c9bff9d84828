"""Stand-in of ComfyUI's ``folder_paths``: a model-folder registry under a temporary base."""

from __future__ import annotations

import os
import tempfile

IS_FAKE = True

base_path = tempfile.mkdtemp(prefix="scail_fake_comfy_")
models_dir = os.path.join(base_path, "models")
output_directory = os.path.join(base_path, "output")
temp_directory = os.path.join(base_path, "temp")
input_directory = os.path.join(base_path, "input")
folder_names_and_paths: dict[str, tuple[list[str], set[str]]] = {}


def add_model_folder_path(
    folder_name: str, full_folder_path: str, is_default: bool = False
) -> None:
    if folder_name in folder_names_and_paths:
        paths = folder_names_and_paths[folder_name][0]
        if full_folder_path in paths:
            if is_default and paths[0] != full_folder_path:
                paths.remove(full_folder_path)
                paths.insert(0, full_folder_path)
        elif is_default:
            paths.insert(0, full_folder_path)
        else:
            paths.append(full_folder_path)
    else:
        folder_names_and_paths[folder_name] = ([full_folder_path], set())


def get_folder_paths(folder_name: str) -> list[str]:
    return folder_names_and_paths[folder_name][0][:]


def get_filename_list(folder_name: str) -> list[str]:
    out: set[str] = set()
    for d in folder_names_and_paths.get(folder_name, ([], set()))[0]:
        if not os.path.isdir(d):
            continue
        for root, _dirs, files in os.walk(d, followlinks=True):
            for f in files:
                out.add(os.path.relpath(os.path.join(root, f), d).replace(os.sep, "/"))
    return sorted(out)


def get_full_path(folder_name: str, filename: str) -> str | None:
    if folder_name not in folder_names_and_paths:
        return None
    filename = os.path.relpath(os.path.join("/", filename), "/")
    for d in folder_names_and_paths[folder_name][0]:
        p = os.path.join(d, filename)
        if os.path.isfile(p):
            return p
    return None


def get_output_directory() -> str:
    return output_directory


def get_temp_directory() -> str:
    return temp_directory


def get_input_directory() -> str:
    return input_directory
