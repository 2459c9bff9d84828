"""Shared test setup: no network, seeded randomness, paths to ../shared, the pack import."""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

# Never reach the network, before anything imports huggingface_hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="scail_hf_"))
os.environ.pop("SCAIL_POSE_MODELS", None)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from support_paths import REPO_ROOT, SHARED, shared_path  # noqa: E402, F401

PACK_NAME = "scail_pose_pack"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def pack():
    """Import the repository the way ComfyUI loads a custom node pack (a package by path)."""
    if PACK_NAME in sys.modules:
        return sys.modules[PACK_NAME]
    spec = importlib.util.spec_from_file_location(
        PACK_NAME, REPO_ROOT / "__init__.py", submodule_search_locations=[str(REPO_ROOT)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACK_NAME] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def shared_dir() -> Path:
    """The ../shared folder (specs, goldens, motion, media); skips with a reason when absent."""
    return shared_path()


# --- ComfyUI node and graph tests (tests/nodes, tests/graph) --------------------------------
# They run against ComfyUI's V3 API: the real one when importable, else tests/_fake_comfy.


@pytest.fixture(scope="session")
def comfy_kind() -> str:
    from _fake_comfy import install

    return install()


@pytest.fixture(scope="session")
def scail(comfy_kind, pack):
    """The pack, imported the way ComfyUI imports it, with the node folders registered."""
    import asyncio

    ext = asyncio.run(pack.nodes.comfy_entrypoint())
    nodes = asyncio.run(ext.get_node_list())
    return pack, {n.GET_SCHEMA().node_id: n for n in nodes}


@pytest.fixture(scope="session")
def node_classes(scail) -> dict:
    return scail[1]


@pytest.fixture(scope="session")
def standin_models(scail) -> None:
    """Stand-in model files in ComfyUI's model folders (models/detection, models/nlf)."""
    import folder_paths
    from comfy_nodes_support import build_standin_models

    build_standin_models(Path(folder_paths.models_dir))
