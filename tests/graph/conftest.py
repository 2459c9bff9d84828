"""Graph tests run against ComfyUI's V3 API: the real one when importable, else tests/_fake_comfy."""

from __future__ import annotations

import pytest
from _fake_comfy import install


@pytest.fixture(scope="session")
def comfy_kind() -> str:
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
    from pathlib import Path

    import folder_paths
    from comfy_nodes_support import build_standin_models

    build_standin_models(Path(folder_paths.models_dir))
