"""Loading and calling the NLF multi-person TorchScript (reference_spec.md §4.1, §4.2).

The model file (``nlf_l_multi_0.3.2.torchscript`` or any NLF multi-person TorchScript with the
same interface) is a TorchScript zip archive. Loading it robustly is the whole job here:

* The archive layout is checked **before** torch sees the file (zip magic, ``constants.pkl``
  and ``code/``), so a plain ``torch.save`` pickle, a safetensors file or a truncated download
  is refused with :class:`~scail_pose_core.errors.ModelFormatError`. Nothing is ever passed to
  ``torch.load``/``pickle``: TorchScript's own importer only rebuilds tensors and script
  classes from the archive.
* ``torchvision`` is imported first when installed: the real file calls ``torchvision::nms``
  and ``torchvision::roi_align``-style ops that only exist once torchvision is imported.
* Other custom-node packs monkey-patch ``torch.jit`` (``torch.jit.script``/``load``) or flip
  global JIT executor switches (users_and_peers.md §(d) 2). The loader therefore goes through
  ``torch._C.import_ir_module`` directly (what ``torch.jit.load`` does internally), never through
  the patchable Python attribute, and each model call runs with the JIT executor defaults
  restored for its duration (the previous values are put back afterwards). A replaced
  ``torch.jit.load`` or a non-default executor setting is named in a one-time warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MissingWeightsError, ModelFormatError, OptionalDependencyError
from ..runtime import resolve_torch_device

LOGGER = logging.getLogger("scail_pose")

#: The method the reference calls (reference_spec.md §4.1).
DETECT_METHOD = "detect_smpl_batched"

_WARNED: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        LOGGER.warning(message)


@dataclass
class NLFModel:
    """A loaded NLF TorchScript module, in eval mode, on ``device``.

    Attributes:
        module: the ``torch.jit.RecursiveScriptModule``.
        device: ``"cuda"``, ``"cuda:N"`` or ``"cpu"``; inputs are moved there.
        path: the file it was loaded from.
        method_names: names of the script methods the file exposes.
    """

    module: Any
    device: str
    path: Path
    method_names: tuple[str, ...] = field(default_factory=tuple)

    def has_method(self, name: str) -> bool:
        return name in self.method_names

    def detect_smpl_batched(self, images: Any, **kwargs: Any) -> dict[str, list[Any]]:
        """Call NLF's ``detect_smpl_batched`` on a uint8 batch.

        Args:
            images: torch.uint8 tensor (N, 3, H, W), RGB, on any device (moved to ``device``).
            **kwargs: keyword arguments of ``detect_smpl_batched`` (environment_notes.md §6);
                omitted ones keep NLF's own defaults (the reference passes none).

        Returns:
            NLF's dict of per-image lists, e.g. ``joints3d_nonparam``: N tensors (k, 24, 3) mm.
        """
        import torch

        images = images.to(self.device, non_blocking=True)
        with _jit_defaults(), torch.inference_mode():
            return self.module.detect_smpl_batched(images, **kwargs)

    def call_method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call any script method (e.g. ``estimate_smpl_batched``) under the same guards."""
        import torch

        if not self.has_method(name):
            raise ModelFormatError(
                f"NLF model {self.path} has no method {name!r}; it has {list(self.method_names)}"
            )
        with _jit_defaults(), torch.inference_mode():
            return getattr(self.module, name)(*args, **kwargs)


@contextlib.contextmanager
def _jit_defaults() -> Iterator[None]:
    """Run with torch's default JIT executor settings, restoring the caller's afterwards.

    Another pack switching the profiling executor/mode or graph-executor optimisation off
    (users_and_peers.md §(d) 2) breaks NLF; the switches are process-global, so they are set
    for the duration of the call only.
    """
    import torch

    c = torch._C
    restore: list[tuple[Any, Any]] = []
    changed: list[str] = []
    for getter_setter, name in (
        ("_jit_set_profiling_executor", "torch._C._jit_set_profiling_executor"),
        ("_jit_set_profiling_mode", "torch._C._jit_set_profiling_mode"),
    ):
        setter = getattr(c, getter_setter, None)
        if setter is None:
            continue
        try:
            prev = setter(True)  # returns the previous value
        except Exception:  # noqa: BLE001 - a torch build without the switch: leave it alone
            continue
        restore.append((setter, prev))
        if prev is False:
            changed.append(f"{name}(False)")
    get_opt = getattr(c, "_get_graph_executor_optimize", None)
    set_opt = getattr(c, "_set_graph_executor_optimize", None)
    if get_opt is not None and set_opt is not None:
        prev_opt = bool(get_opt())
        if not prev_opt:
            set_opt(True)
            restore.append((set_opt, prev_opt))
            changed.append("torch._C._set_graph_executor_optimize(False)")
    if changed:
        _warn_once(
            "jit-settings",
            "Another package changed torch's global JIT settings ("
            + ", ".join(changed)
            + "), which breaks the NLF TorchScript; the defaults are restored while NLF runs "
            "and put back afterwards. Remove that setting from the other custom node if NLF "
            "still fails.",
        )
    try:
        yield
    finally:
        for setter, prev in reversed(restore):
            with contextlib.suppress(Exception):
                setter(prev)


def check_torchscript_archive(path: Path) -> None:
    """Refuse anything that is not a TorchScript zip archive, without unpickling a byte.

    A TorchScript archive is a zip with one top folder holding ``data.pkl``, ``constants.pkl``
    and ``code/``; a ``torch.save`` checkpoint has ``data.pkl`` but neither of the others.

    Raises:
        ModelFormatError: with what was found and what was expected.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] != b"PK":
        kind = "a safetensors file" if head[:1] == b"{" or path.suffix == ".safetensors" else None
        if head[:2] == b"\x80\x02" or head[:1] == b"\x80":
            kind = "a raw Python pickle"
        raise ModelFormatError(
            f"{path} is not a TorchScript archive (first bytes {head!r}, expected a zip 'PK')"
            + (f"; it looks like {kind}" if kind else "")
            + ". NLF needs the TorchScript release file nlf_l_multi_0.3.2.torchscript "
            "(isarandi/nlf GitHub release v0.3.2); safetensors ports are a different format."
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFormatError(
            f"{path} starts like a zip but cannot be read as one ({exc}); the file is probably "
            "truncated or corrupt — download nlf_l_multi_0.3.2.torchscript again."
        ) from exc
    has_constants = any(n.endswith("/constants.pkl") or n == "constants.pkl" for n in names)
    has_code = any("/code/" in n or n.startswith("code/") for n in names)
    if not (has_constants and has_code):
        hint = (
            " It looks like a torch.save checkpoint (data.pkl without code/), which is refused "
            "because loading it would unpickle arbitrary Python objects."
            if any(n.endswith("data.pkl") for n in names)
            else ""
        )
        raise ModelFormatError(
            f"{path} is a zip but not a TorchScript archive: expected constants.pkl and a code/ "
            f"folder, found {names[:6]}{'...' if len(names) > 6 else ''}.{hint}"
        )


def _jit_load_is_patched() -> str | None:
    """Describe how ``torch.jit.load`` was replaced by someone else, or None if it is torch's."""
    import torch
    import torch.jit._serialization as ser

    fn = getattr(torch.jit, "load", None)
    orig = getattr(ser, "load", None)
    for label, f in (("torch.jit.load", fn), ("torch.jit._serialization.load", orig)):
        mod = getattr(f, "__module__", "") or ""
        if f is None or not mod.startswith("torch"):
            return f"{label} is {f!r} from module {mod or '?'}"
    if fn is not orig:
        return f"torch.jit.load is {fn!r}, not torch.jit._serialization.load"
    return None


def _import_module(path: Path, device: str) -> Any:
    """Import the archive via torch's C++ importer, bypassing any patched ``torch.jit.load``."""
    import torch

    patched = _jit_load_is_patched()
    if patched:
        _warn_once(
            "jit-load",
            f"{patched}: another package replaced torch's TorchScript loader; NLF is loaded "
            "through torch._C.import_ir_module directly instead.",
        )
    importer = getattr(torch._C, "import_ir_module", None)
    if importer is not None:
        from torch.jit._recursive import wrap_cpp_module

        cu = torch._C.CompilationUnit()
        try:
            cpp = importer(cu, os.fspath(path), torch.device(device), {}, False)
        except TypeError:  # older signature without _restore_shapes
            cpp = importer(cu, os.fspath(path), torch.device(device), {})
        return wrap_cpp_module(cpp)
    if patched:
        raise ModelFormatError(
            f"cannot load {path}: this torch build has no torch._C.import_ir_module and {patched}. "
            "Disable the custom node that overrides torch.jit.load and restart ComfyUI."
        )
    return torch.jit.load(os.fspath(path), map_location=device)  # pragma: no cover


def load_nlf(path: str | os.PathLike[str], device: str = "auto") -> NLFModel:
    """Load an NLF multi-person TorchScript onto ``device`` in eval mode.

    Args:
        path: the ``.torchscript`` file.
        device: ``"auto"`` (CUDA when available, else CPU with a warning), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``.

    Raises:
        MissingWeightsError: the file does not exist.
        ModelFormatError: not a TorchScript archive, corrupt, or lacks ``detect_smpl_batched``.
        OptionalDependencyError: the file needs torchvision ops and torchvision is missing.
    """
    p = Path(path)
    if not p.is_file():
        raise MissingWeightsError(
            f"NLF model file not found: {p}. Put nlf_l_multi_0.3.2.torchscript in "
            "ComfyUI/models/nlf/ (or pass its path)."
        )
    check_torchscript_archive(p)
    try:
        import torch  # noqa: F401
    except ImportError as exc:  # pragma: no cover - torch comes with ComfyUI
        raise OptionalDependencyError("NLF needs PyTorch; install torch.") from exc
    tv_error: str | None = None
    try:
        import torchvision  # noqa: F401  registers torchvision:: ops used inside the file
    except Exception as exc:  # noqa: BLE001 - a broken torchvision is as bad as a missing one
        tv_error = f"{type(exc).__name__}: {exc}"
    dev = resolve_torch_device(device)
    if dev == "cpu":
        _warn_once(
            "nlf-cpu",
            "NLF runs on the CPU, which is slow: expect several seconds per image (minutes for a short video); "
            "the release TorchScript is reported not to run on CPU on some torch builds. "
            "Use a CUDA GPU for real work.",
        )
    try:
        module = _import_module(p, dev)
    except RuntimeError as exc:
        msg = str(exc)
        if "torchvision" in msg and tv_error is not None:
            raise OptionalDependencyError(
                f"{p} uses torchvision operators but torchvision could not be imported "
                f"({tv_error}). Install the torchvision build matching your torch "
                "(ComfyUI installs both together)."
            ) from exc
        extra = ""
        if os.environ.get("PYTORCH_JIT") == "0":
            extra = " The environment sets PYTORCH_JIT=0, which disables TorchScript; unset it."
        raise ModelFormatError(
            f"torch could not load the TorchScript {p}: {msg.splitlines()[0] if msg else exc}. "
            "The file may be corrupt or made for a different torch version (re-download it, or "
            f"use a torch build the file supports).{extra}"
        ) from exc
    module.eval()
    names = tuple(sorted(module._c._method_names()))
    if DETECT_METHOD not in names:
        raise ModelFormatError(
            f"{p} is a TorchScript file but has no {DETECT_METHOD!r} method (found "
            f"{list(names)[:12]}); it is not an NLF multi-person model "
            "(expected nlf_l_multi_0.3.2.torchscript)."
        )
    LOGGER.info("Loaded NLF %s on %s", p.name, dev)
    return NLFModel(module=module, device=dev, path=p, method_names=names)
