"""onnxruntime session factory: provider choice, install-clash check, strict model loading.

Main entry point: :func:`load_onnx_model` → :class:`OnnxModel`, a *runner* (callable from one
input array to the list of output arrays) that also tells its tensor names and shapes, read from
the session (never assumed).

Provider policy (environment_notes.md §1): ``onnxruntime.get_available_providers()`` describes
how the wheel was built, not the hardware, so we ask for CUDA when the build has it and then check
``session.get_providers()`` to learn what was really used. One INFO line per model names it.
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import MissingWeightsError, ModelFormatError, OptionalDependencyError

LOGGER = logging.getLogger("scail_pose")

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"

#: Distributions that all install the same ``onnxruntime`` Python package (they overwrite each
#: other's files when more than one is installed).
ORT_DISTRIBUTIONS: tuple[str, ...] = (
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-directml",
    "onnxruntime-openvino",
    "onnxruntime-silicon",
)

FIX_CLASH = (
    "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu "
    "(or `pip install onnxruntime` on macOS / ARM)"
)


class Runner(Protocol):
    """Anything that maps one float32 NCHW input to the model's outputs (in output order)."""

    def __call__(self, x: np.ndarray) -> Sequence[np.ndarray]: ...


Dim = int | str | None


@dataclass(frozen=True)
class TensorInfo:
    """Name and declared shape of a model input/output (symbolic dims are str or None)."""

    name: str
    shape: tuple[Dim, ...]

    def dim(self, i: int) -> int | None:
        """The i-th dimension when it is a fixed positive int, else None (dynamic)."""
        d = self.shape[i]
        return d if isinstance(d, int) and d > 0 else None


def find_onnxruntime_clash(
    version_of: Callable[[str], str] = importlib.metadata.version,
) -> str | None:
    """Return a message when more than one onnxruntime distribution is installed, else None.

    ``version_of`` is :func:`importlib.metadata.version` (injectable for tests); a distribution is
    installed when it does not raise ``PackageNotFoundError``.
    """
    found = []
    for dist in ORT_DISTRIBUTIONS:
        try:
            found.append(f"{dist}=={version_of(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    if len(found) < 2:
        return None
    return (
        f"Several onnxruntime distributions are installed ({', '.join(found)}); they overwrite "
        "each other's files, so the GPU build can be silently lost or `import onnxruntime` can "
        f"break. Fix: {FIX_CLASH}"
    )


_CLASH_CHECKED = False


def import_onnxruntime() -> Any:
    """Import onnxruntime, logging the install clash once; raise a clear error when unusable."""
    global _CLASH_CHECKED
    if not _CLASH_CHECKED:
        _CLASH_CHECKED = True
        msg = find_onnxruntime_clash()
        if msg:
            LOGGER.warning(msg)
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise OptionalDependencyError(
            f"onnxruntime is not installed ({exc}); YOLOX/DWPose need it. "
            "Install it with `pip install onnxruntime-gpu` (Linux/Windows x86-64) or "
            "`pip install onnxruntime` (macOS / ARM)."
        ) from exc
    if not hasattr(ort, "InferenceSession"):
        raise OptionalDependencyError(
            "`import onnxruntime` gives a broken package (no InferenceSession): usually the "
            f"leftover of installing and uninstalling onnxruntime next to onnxruntime-gpu. "
            f"Fix: {FIX_CLASH}"
        )
    return ort


ProviderSpec = str | tuple[str, dict[str, Any]]


def providers_for_device(device: str | None) -> list[ProviderSpec] | None:
    """Execution providers for a torch-style device string.

    ``None``/``"auto"`` → ``None`` (the default: CUDA when the build has it, then CPU);
    ``"cpu"`` → CPU only; ``"cuda"``/``"cuda:N"`` → the CUDA provider on device N (so ONNX runs
    on the same GPU as torch, e.g. ComfyUI started with ``--cuda-device``), then CPU.
    """
    d = (device or "auto").strip().lower()
    if d == "auto":
        return None
    if d == "cpu":
        return [CPU_PROVIDER]
    if d.startswith("cuda"):
        idx = int(d.split(":", 1)[1]) if ":" in d else 0
        return [(CUDA_PROVIDER, {"device_id": idx}), CPU_PROVIDER]
    return None


def _provider_name(p: ProviderSpec) -> str:
    return p if isinstance(p, str) else p[0]


def _preload_cuda_libraries(ort: Any) -> None:
    """Let onnxruntime-gpu find the CUDA/cuDNN libraries that torch already loaded.

    onnxruntime >= 1.21 has ``preload_dlls``; calling it after ``import torch`` makes the CUDA
    provider use torch's pip-installed NVIDIA libraries. A failure only means the provider may
    not start, which :func:`load_onnx_model` detects and reports.
    """
    if "torch" not in sys.modules or not hasattr(ort, "preload_dlls"):
        return
    try:
        ort.preload_dlls()
    except Exception as exc:  # best effort: never fatal
        LOGGER.debug("onnxruntime.preload_dlls() failed: %s", exc)


def default_providers(available: Sequence[str]) -> list[str]:
    """CUDA first when the build has it, then CPU (only providers the build lists)."""
    chosen = [p for p in (CUDA_PROVIDER, CPU_PROVIDER) if p in available]
    return chosen or list(available)


class OnnxModel:
    """A loaded ONNX model, callable as a :class:`Runner` on its first input.

    Attributes:
        path: the model file.
        inputs, outputs: :class:`TensorInfo` of every input / output, read from the session.
        providers: the execution providers the session really uses (``get_providers()``).
    """

    def __init__(self, session: Any, path: Path) -> None:
        self.session = session
        self.path = path
        self.inputs = tuple(TensorInfo(i.name, tuple(i.shape)) for i in session.get_inputs())
        self.outputs = tuple(TensorInfo(o.name, tuple(o.shape)) for o in session.get_outputs())
        self.providers = tuple(session.get_providers())
        self._output_names = [o.name for o in self.outputs]

    @property
    def uses_cuda(self) -> bool:
        return CUDA_PROVIDER in self.providers

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        return self.session.run(self._output_names, {self.inputs[0].name: x})


def load_onnx_model(
    path: str | Path,
    providers: Sequence[ProviderSpec] | None = None,
    *,
    role: str = "ONNX model",
    session_options: Any = None,
) -> OnnxModel:
    """Open an ONNX file with onnxruntime.

    Args:
        path: the ``.onnx`` file.
        providers: execution providers to ask for, as names or ``(name, options)`` pairs (see
            :func:`providers_for_device`); default CUDA (when the onnxruntime build has it)
            then CPU. What the session really uses is checked after creation and logged.
        role: name used in log lines and errors ("YOLOX detector", "DWPose", ...).
        session_options: an ``onnxruntime.SessionOptions`` to use instead of the default.

    Raises:
        MissingWeightsError: the file does not exist.
        ModelFormatError: onnxruntime cannot read the file (not ONNX, truncated, ...).
        OptionalDependencyError: onnxruntime is missing or broken.
    """
    p = Path(path)
    if not p.is_file():
        raise MissingWeightsError(f"{role}: model file {str(p)!r} does not exist")
    ort = import_onnxruntime()
    available = list(ort.get_available_providers())
    requested: list[ProviderSpec] = (
        list(providers) if providers is not None else list(default_providers(available))
    )
    wants_cuda = any(_provider_name(p_) == CUDA_PROVIDER for p_ in requested)
    if wants_cuda and CUDA_PROVIDER not in available:
        LOGGER.warning(
            "%s: the CUDA provider was requested but this onnxruntime build has none "
            "(onnxruntime %s lists %s); running on the CPU. For the GPU: %s",
            role, getattr(ort, "__version__", "?"), available, FIX_CLASH,
        )  # fmt: skip
        requested = [p_ for p_ in requested if _provider_name(p_) in available] or [CPU_PROVIDER]
        wants_cuda = False
    if wants_cuda:
        _preload_cuda_libraries(ort)
    so = session_options
    if so is None:
        so = ort.SessionOptions()
        so.log_severity_level = 3  # our own log line below replaces ORT's provider warnings
    try:
        session = ort.InferenceSession(str(p), sess_options=so, providers=requested)
    except Exception as exc:  # onnxruntime raises its own exception types (InvalidProtobuf, Fail)
        raise ModelFormatError(
            f"{role}: {str(p)!r} could not be opened as an ONNX model "
            f"({type(exc).__name__}: {str(exc).strip()[:300]}). Expected an .onnx export; "
            "re-download the file if it is truncated or is an HTML/LFS pointer page."
        ) from exc
    model = OnnxModel(session, p)
    if wants_cuda and not model.uses_cuda:
        LOGGER.warning(
            "%s: the CUDA provider was requested but onnxruntime could not start it (CUDA/cuDNN "
            "libraries missing or of another major version than this onnxruntime-gpu build: "
            "onnxruntime-gpu<1.27 needs CUDA 12, >=1.27 needs CUDA 13); running on the CPU.",
            role,
        )
    LOGGER.info(
        "Loaded %s %s with onnxruntime %s on %s",
        role,
        p.name,
        getattr(ort, "__version__", "?"),
        model.providers[0] if model.providers else "?",
    )
    return model
