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

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCAIL_SHARED", REPO_ROOT.parent / "shared"))
PACK_NAME = "scail_pose_pack"


def shared_path(*parts: str) -> Path:
    """Path inside ../shared; the test is skipped with a reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is absent (../shared is only present in the project's workspace and CI)")
    return p


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
