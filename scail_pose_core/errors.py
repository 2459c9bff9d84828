"""Exception hierarchy of scail_pose_core: every error a user can see is a ScailPoseError.

Messages say what happened, the offending value, what was expected and how to fix it.
"""

from __future__ import annotations


class ScailPoseError(Exception):
    """Base class of every error raised on purpose by scail_pose_core."""


class InputError(ScailPoseError, ValueError):
    """An argument or input file is malformed (wrong shape, dtype, size, content)."""


class MissingWeightsError(ScailPoseError, FileNotFoundError):
    """A model file could not be found (and was not, or could not be, downloaded)."""


class ModelFormatError(ScailPoseError, ValueError):
    """A model file exists but is not what was expected (not ONNX, wrong outputs, ...)."""


class OptionalDependencyError(ScailPoseError, ImportError):
    """An optional package (sam2, nvdiffrast, ...) is needed but not installed or not usable."""


class Cancelled(ScailPoseError):
    """Long work was stopped because the caller's cancel check asked for it."""
