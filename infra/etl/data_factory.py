"""Azure Data Factory for complex ETL workflows (seed 003: optional, dev only by flag)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import datafactory


def create_data_factory(
    name: str,
    *,
    azure_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    location: str,
    private: bool,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> datafactory.Factory:
    """A factory with its own system identity: linked services authenticate as it, not with keys.

    No git configuration: pipelines are authored in dev and not promoted from here.
    https://learn.microsoft.com/azure/data-factory/data-factory-service-identity
    """
    return datafactory.Factory(
        f"{name}-adf",
        factory_name=azure_name,
        resource_group_name=resource_group_name,
        location=location,
        identity=datafactory.FactoryIdentityArgs(type="SystemAssigned"),
        public_network_access="Disabled" if private else "Enabled",
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def factory_principal_id(factory: datafactory.Factory) -> pulumi.Output[str]:
    """Object id of the factory's system identity, for role assignments."""
    return factory.identity.apply(lambda identity: identity.principal_id if identity else "")
