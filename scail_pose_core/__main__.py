"""``python -m scail_pose_core``: see :mod:`scail_pose_core.cli`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
