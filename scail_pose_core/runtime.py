"""Progress and cancellation plumbing shared by every long-running core function.

Every stage function takes two optional callables:

* ``progress(done, total)``: called with the number of work units finished so far and the
  total (frames, usually). ``total`` may be 0 when unknown.
* ``check_cancel()``: called between chunks; it raises to stop the work (ComfyUI's
  ``throw_exception_if_processing_interrupted`` raises its own exception, the CLI raises
  :class:`~scail_pose_core.errors.Cancelled`). The core never swallows that exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

LOGGER = logging.getLogger("scail_pose")

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], None]


def _noop_progress(done: int, total: int) -> None:
    return None


def _noop_cancel() -> None:
    return None


@dataclass
class Reporter:
    """Bundles a progress callback and a cancel check; both optional.

    ``Reporter(progress, check_cancel).step(n)`` advances by ``n`` units, reports, then checks
    for cancellation. ``sub(offset, total)`` maps a stage's local progress into a larger job.
    """

    progress: ProgressFn | None = None
    check_cancel: CancelFn | None = None
    total: int = 0
    done: int = 0

    def start(self, total: int) -> Reporter:
        self.total = int(total)
        self.done = 0
        self._emit()
        return self

    def step(self, n: int = 1) -> None:
        self.done += int(n)
        self._emit()
        self.cancel_point()

    def cancel_point(self) -> None:
        if self.check_cancel is not None:
            self.check_cancel()

    def _emit(self) -> None:
        if self.progress is not None:
            self.progress(min(self.done, self.total) if self.total else self.done, self.total)


def resolve_torch_device(device: str | None = None) -> str:
    """Return ``"cuda"`` when asked for (or ``auto``/None) and available, else ``"cpu"``.

    Args:
        device: ``"auto"``, ``None``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    """
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        LOGGER.warning("CUDA was requested but is not available; using the CPU (slow).")
        return "cpu"
    return str(device)
