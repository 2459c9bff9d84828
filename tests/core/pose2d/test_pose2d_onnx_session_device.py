"""Provider choice follows the torch device: CPU only, or CUDA on the same device index."""

from __future__ import annotations

import logging

import pytest

from scail_pose_core import onnx_session
from scail_pose_core.onnx_session import CPU_PROVIDER, CUDA_PROVIDER, providers_for_device


def test_providers_for_device_strings() -> None:
    assert providers_for_device(None) is None
    assert providers_for_device("auto") is None
    assert providers_for_device("cpu") == [CPU_PROVIDER]
    assert providers_for_device("cuda") == [(CUDA_PROVIDER, {"device_id": 0}), CPU_PROVIDER]
    assert providers_for_device("cuda:1") == [(CUDA_PROVIDER, {"device_id": 1}), CPU_PROVIDER]


def test_cuda_with_options_on_a_cpu_build_falls_back_with_a_warning(tmp_path, caplog) -> None:
    pytest.importorskip("onnx")
    from standin_onnx import build_yolox_standin

    path = build_yolox_standin(tmp_path / "yolox.onnx", [(100.0, 100.0, 200.0, 300.0)])
    with caplog.at_level(logging.WARNING, logger="scail_pose"):
        model = onnx_session.load_onnx_model(
            path, providers_for_device("cuda:1"), role="YOLOX detector"
        )
    assert model.providers[0] == CPU_PROVIDER
    if CUDA_PROVIDER not in onnx_session.import_onnxruntime().get_available_providers():
        assert "CUDA provider was requested" in caplog.text
