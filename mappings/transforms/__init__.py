"""The closed set of named transforms crosswalk files may use (importing registers them all)."""

from mappings.transforms import (agents, dates, language, links, marc, places, rdf,  # noqa: F401
                                 shaping)
from mappings.transforms.registry import (TRANSFORMS, ArgumentCompiler, ArgumentError, Step,
                                          TransformSpec)

__all__ = ["TRANSFORMS", "ArgumentCompiler", "ArgumentError", "Step", "TransformSpec"]
