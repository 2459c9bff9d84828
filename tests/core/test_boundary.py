"""The core never imports ComfyUI (checked at run time, in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BANNED = {"comfy", "comfy_api", "comfy_execution", "comfy_extras", "folder_paths", "server"}
ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_no_comfyui_module() -> None:
    code = (
        "import json, sys, pkgutil, importlib\n"
        "import scail_pose_core\n"
        "for m in pkgutil.walk_packages(scail_pose_core.__path__, 'scail_pose_core.'):\n"
        "    if m.name.endswith('__main__'):\n"
        "        continue\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "scail_pose_core" in loaded
    assert not (loaded & BANNED), f"scail_pose_core pulled in ComfyUI modules: {loaded & BANNED}"


def test_ruff_config_bans_comfy_in_core() -> None:
    """The static half of the rule: the banned-api list exists and no ignore covers the core."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    banned = set(cfg["flake8-tidy-imports"]["banned-api"])
    assert BANNED <= banned
    for pattern, rules in cfg.get("per-file-ignores", {}).items():
        if "TID251" in rules:
            assert pattern != "__init__.py" and not pattern.startswith("scail_pose_core"), pattern
