"""load_nlf: TorchScript stand-in loads; everything else is refused clearly and never unpickled."""

from __future__ import annotations

import logging
import zipfile

import numpy as np
import pytest
import torch
from standin_nlf import build_nlf_standin, build_torchscript_without_method

from scail_pose_core.errors import MissingWeightsError, ModelFormatError
from scail_pose_core.lift3d import LiftOptions, lift_to_3d, load_nlf
from scail_pose_core.lift3d import nlf as nlf_mod
from scail_pose_core.types import Detections


@pytest.fixture(scope="module")
def standin_path(tmp_path_factory):
    return build_nlf_standin(tmp_path_factory.mktemp("nlf") / "nlf_standin.torchscript")


def test_loads_standin_on_cpu_in_eval_mode_with_cpu_warning(standin_path, caplog):
    nlf_mod._WARNED.discard("nlf-cpu")
    with caplog.at_level(logging.WARNING, logger="scail_pose"):
        m = load_nlf(standin_path, device="auto")
    assert m.device == "cpu"
    assert m.has_method("detect_smpl_batched") and m.has_method("estimate_smpl_batched")
    assert not m.module.training
    assert any("CPU" in r.getMessage() and "slow" in r.getMessage() for r in caplog.records)
    # the warning is one-time
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="scail_pose"):
        load_nlf(standin_path, device="cpu")
    assert not any("slow" in r.getMessage() for r in caplog.records)


def test_missing_file(tmp_path):
    with pytest.raises(MissingWeightsError, match="not found"):
        load_nlf(tmp_path / "nope.torchscript")


def test_non_zip_file_refused(tmp_path):
    p = tmp_path / "model.torchscript"
    p.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ModelFormatError, match="not a TorchScript archive"):
        load_nlf(p)


class _Bomb:
    """Unpickling this would create a marker file: proves the loader never unpickles."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_torch_save_pickle_refused_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled.txt"
    p = tmp_path / "checkpoint.torchscript"
    torch.save({"weights": torch.zeros(3), "evil": _Bomb(str(marker))}, p)
    assert zipfile.is_zipfile(p)
    with pytest.raises(ModelFormatError, match=r"torch\.save checkpoint"):
        load_nlf(p)
    assert not marker.exists()


def test_truncated_torchscript_refused(standin_path, tmp_path):
    data = standin_path.read_bytes()
    p = tmp_path / "truncated.torchscript"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError):
        load_nlf(p)


def test_corrupt_member_refused(standin_path, tmp_path):
    """A zip with the right layout but garbage code: torch's error becomes a ModelFormatError."""
    p = tmp_path / "corrupt.torchscript"
    with zipfile.ZipFile(standin_path) as src, zipfile.ZipFile(p, "w") as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename.endswith(".py"):
                payload = b"this is not torchscript code ((("
            dst.writestr(info, payload)
    with pytest.raises(ModelFormatError, match="could not load"):
        load_nlf(p)


def test_model_without_detect_method_refused(tmp_path):
    p = build_torchscript_without_method(tmp_path / "other.torchscript")
    with pytest.raises(ModelFormatError, match="detect_smpl_batched"):
        load_nlf(p)


def test_patched_torch_jit_load_is_bypassed(standin_path, monkeypatch, caplog):
    def broken_load(*args, **kwargs):
        raise RuntimeError("another pack's torch.jit.load override")

    monkeypatch.setattr(torch.jit, "load", broken_load)
    nlf_mod._WARNED.discard("jit-load")
    with caplog.at_level(logging.WARNING, logger="scail_pose"):
        m = load_nlf(standin_path, device="cpu")
    assert m.has_method("detect_smpl_batched")
    assert any("torch.jit.load" in r.getMessage() for r in caplog.records)


def test_profiling_executor_switched_off_is_restored_around_calls(standin_path, caplog):
    m = load_nlf(standin_path, device="cpu")
    frames = np.full((1, 64, 96, 3), 9, np.uint8)
    dets = [Detections(np.array([[10, 10, 40, 50]], np.float32), np.ones(1, np.float32))]
    prev = torch._C._jit_set_profiling_executor(False)  # what a misbehaving pack does
    nlf_mod._WARNED.discard("jit-settings")
    try:
        with caplog.at_level(logging.WARNING, logger="scail_pose"):
            out = lift_to_3d(frames, dets, m, LiftOptions(batch_size=4))
        # the caller's (odd) setting is put back afterwards
        assert torch._C._jit_set_profiling_executor(False) is False
    finally:
        torch._C._jit_set_profiling_executor(prev)
    assert out[0].present.tolist() == [True]
    assert any("_jit_set_profiling_executor(False)" in r.getMessage() for r in caplog.records)
