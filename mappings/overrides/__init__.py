"""Python overrides for crosswalk fields whose logic cannot be declared (one module per crosswalk)."""
