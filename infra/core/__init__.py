"""Core layer: naming, tags and the resource group."""

from infra.core.naming import Namer, NamingError, check_name
from infra.core.placement import Placement
from infra.core.resource_group import Core, CoreArgs
from infra.core.tags import REQUIRED_TAGS, base_tags, layer_tags

__all__ = [
    "REQUIRED_TAGS",
    "Core",
    "CoreArgs",
    "Namer",
    "NamingError",
    "Placement",
    "base_tags",
    "check_name",
    "layer_tags",
]
