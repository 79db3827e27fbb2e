"""The core layer: the stack's resource group and the stable suffix for globally unique names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_azure_native import resources

from config.settings import EnvironmentSettings
from infra.core.naming import SUFFIX_LENGTH, Namer
from infra.core.placement import Placement
from infra.core.tags import layer_tags


@dataclass(frozen=True)
class CoreArgs:
    """What the core layer needs: where, how to name, how to tag."""

    location: str
    namer: Namer
    tags: Mapping[str, str]


class Core(pulumi.ComponentResource):
    """Resource group plus a random suffix kept in state, so unique names never churn."""

    resource_group_name: pulumi.Output[str]
    """Azure name of the stack's resource group."""
    resource_group_id: pulumi.Output[str]
    """ARM id of the resource group (scope for locks, budgets and role assignments)."""
    name_suffix: pulumi.Output[str]
    """Six lowercase alphanumerics appended to globally unique names."""

    def __init__(
        self, name: str, args: CoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:core:Core", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.namer.name("resource_group"),
            location=args.location,
            tags=layer_tags(args.tags, "core"),
            opts=child,
        )
        suffix = random.RandomString(
            f"{name}-suffix",
            length=SUFFIX_LENGTH,
            special=False,
            upper=False,
            numeric=True,
            lower=True,
            opts=child,
        )

        self.resource_group_name = group.name
        self.resource_group_id = group.id
        self.name_suffix = suffix.result
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "resource_group_id": self.resource_group_id,
                "name_suffix": self.name_suffix,
            }
        )

    def placement(self, env: EnvironmentSettings) -> Placement:
        """The stack context the later layers take: this group, its location, names and tags."""
        return Placement(
            resource_group_name=self.resource_group_name,
            resource_group_id=self.resource_group_id,
            location=self._args.location,
            env=env,
            namer=self._args.namer,
            tags=self._args.tags,
            name_suffix=self.name_suffix,
        )
