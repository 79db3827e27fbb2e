"""Tagging strategy: base tags from settings, plus each layer's own `layer` tag."""

from __future__ import annotations

from collections.abc import Mapping

from config.settings import StackSettings

MANAGED_BY = "pulumi"
REQUIRED_TAGS = ("environment", "project", "owner", "cost-center", "managed-by")


def base_tags(settings: StackSettings, project: str) -> dict[str, str]:
    """Tags every taggable resource carries (cost reports and ownership queries rely on them)."""
    return {
        "environment": settings.environment,
        "project": project,
        "owner": settings.deployment.owner,
        "cost-center": settings.deployment.cost_center,
        "managed-by": MANAGED_BY,
    }


def layer_tags(tags: Mapping[str, str], layer: str) -> dict[str, str]:
    """The base tags plus the layer that made the resource."""
    return {**tags, "layer": layer}
