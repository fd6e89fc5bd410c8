"""Migration scripts, one per revision, oldest first (``0001``, ``0002``, …)."""
