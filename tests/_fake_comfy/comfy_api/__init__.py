"""Stand-in of the ``comfy_api`` package (tests only)."""
