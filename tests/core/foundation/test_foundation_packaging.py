"""Packaging rules: requirements.txt mirrors [project].dependencies; torch is never listed."""

from __future__ import annotations

from pathlib import Path

import tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]


def _requirements_txt() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [ln.split(" #")[0].strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_requirements_txt_equals_project_dependencies() -> None:
    req = {str(Requirement(r)) for r in _requirements_txt()}
    deps = {str(Requirement(r)) for r in _pyproject()["project"]["dependencies"]}
    assert req == deps


def test_torch_and_optional_accelerators_are_not_hard_requirements() -> None:
    names = {Requirement(r).name.lower() for r in _requirements_txt()}
    assert not names & {"torch", "torchvision", "sam2", "nvdiffrast", "taichi"}


def test_onnxruntime_cpu_and_gpu_never_land_in_one_environment() -> None:
    """The two onnxruntime packages have disjoint platform markers."""
    reqs = [Requirement(r) for r in _requirements_txt()]
    ort = [r for r in reqs if r.name in ("onnxruntime", "onnxruntime-gpu")]
    assert {r.name for r in ort} == {"onnxruntime", "onnxruntime-gpu"}
    envs = [
        {"sys_platform": p, "platform_machine": m}
        for p in ("linux", "win32", "darwin")
        for m in ("x86_64", "AMD64", "aarch64", "arm64")
    ]
    for env in envs:
        chosen = [r.name for r in ort if r.marker is None or r.marker.evaluate(env)]
        assert len(chosen) == 1, (env, chosen)
