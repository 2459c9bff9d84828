"""The 3D pose preview in a real headless browser (Debian chromium + playwright-core).

The payload comes from the pack's own builder (nodes/_preview.py) for a synthetic two-character
sequence; a tiny localhost static server serves the repository and the payload.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import json
import os
import shutil
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PKG = "scail_pose_webtest"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _module(name: str):
    """Import ``<repo>/<name>`` under a package alias without running the pack's __init__ files

    (the payload builder needs neither ComfyUI nor the model stages)."""
    for pkg, path in ((PKG, ROOT), (f"{PKG}.nodes", ROOT / "nodes")):
        if pkg not in sys.modules:
            mod = types.ModuleType(pkg)
            mod.__path__ = [str(path)]
            sys.modules[pkg] = mod
    return importlib.import_module(f"{PKG}.{name}")


def _sequence():
    t = _module("scail_pose_core.types")
    smpl = _module("scail_pose_core.skeletons.smpl")
    # A rough standing skeleton (mm, OpenCV axes: y down) built from parent offsets.
    offsets = np.zeros((24, 3))
    offsets[[1, 2], 0] = [90, -90]
    offsets[[4, 5, 7, 8], 1] = 400
    offsets[[3, 6, 9], 1] = -120
    offsets[12, 1], offsets[15, 1] = -150, -120
    offsets[[13, 14], 0] = [80, -80]
    offsets[[16, 17], 0] = [100, -100]
    offsets[[18, 19], 0] = [250, -250]
    offsets[[20, 21], 0] = [240, -240]
    offsets[[22, 23], 0] = [80, -80]
    offsets[[10, 11], 2] = -120
    frames = []
    for f in range(6):
        people = []
        for x0 in (-500.0, 500.0):
            j = np.zeros((24, 3))
            j[0] = [x0, 0, 3500]
            for k in range(1, 24):
                off = offsets[k].copy()
                if k in (18, 20):  # left arm swings with the frame index
                    ang = 0.5 * f
                    off = np.array([off[0] * np.cos(ang), -abs(off[0]) * np.sin(ang), 0])
                j[k] = j[smpl.PARENTS[k]] + off
            people.append(j)
        p3 = t.Pose3D(np.array(people, np.float32), track_ids=np.array([0, 1], np.int32))
        frames.append(t.PoseFrame(pose3d=p3))
    return t.PoseSequence(tuple(frames), size_hw=(896, 512), fps=16.0)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    payload = _module("nodes._preview").preview_payload(_sequence())
    fixture = tmp_path_factory.mktemp("web") / "fixture.json"
    fixture.write_text(json.dumps(payload))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            if path.split("?")[0] == "/fixture.json":
                return str(fixture)
            if path.startswith("/page.html"):
                return str(HERE / "viewer_page.html")
            return super().translate_path(path)

        def log_message(self, *args):
            return None

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(ROOT))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/page.html", payload
    finally:
        server.shutdown()


def test_viewer_draws_scrubs_hides_and_orbits(served):
    chromium = _chromium()
    node = shutil.which("node")
    if chromium is None or node is None:
        pytest.skip("chromium or node is missing (CI installs both via .ci/install_browser.sh)")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.skip("playwright-core is not installed: run `npm ci` in tests/web")
    url, payload = served
    out = subprocess.run(
        [node, str(HERE / "drive_viewer.mjs"), chromium, url],
        cwd=HERE, capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["errors"] == []
    first, last, hidden, orbited = res["first"], res["last"], res["hidden"], res["orbited"]
    assert first["nonBackground"] > 500
    # Both characters are drawn with their palettes: most bones' exact colours are on screen.
    for ci in range(2):
        seen = sum(1 for n in first["hits"][ci] if n > 0)
        assert seen >= 8, (ci, first["hits"][ci])
    # The timeline changed the drawn frame (the arm moved), and the label follows it.
    assert first["frame"] == 0 and last["frame"] == len(payload["frames"]) - 1
    assert last["hash"] != first["hash"]
    assert last["label"].startswith("frame 5")
    # Hiding character 0 removes its colours but keeps character 1's.
    assert sum(hidden["hits"][0]) < sum(last["hits"][0]) * 0.05
    assert sum(hidden["hits"][1]) > 0
    # Dragging orbits the view; the render camera frustum is in the scene (8 segments).
    assert orbited["hash"] != hidden["hash"]
    assert res["frustum"] == 16
