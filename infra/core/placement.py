"""The placement every layer after core takes: where, how to name and tag, which environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from config.settings import EnvironmentSettings
from infra.core.naming import Namer


@dataclass(frozen=True)
class Placement:
    """One stack context instead of the same five arguments repeated in every layer's Args.

    Built once in the composition root from the core layer's outputs (`Core.placement`);
    a layer reads its own sub-settings from `env` and adds its `layer` tag to `tags`.
    """

    resource_group_name: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    """Scope for locks, budgets and role assignments."""
    location: str
    env: EnvironmentSettings
    namer: Namer
    tags: Mapping[str, str]
    """Base tags from settings; layers add their own `layer` tag."""
    name_suffix: pulumi.Input[str]
    """Stable suffix kept in state for globally unique names."""
