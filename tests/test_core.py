"""Core layer: resource group, suffix, and the tags every taggable resource carries."""

from __future__ import annotations

from pulumi import _types as pulumi_types

from infra.core.naming import ENVIRONMENT_CODES
from infra.core.tags import REQUIRED_TAGS
from offline.engine import ProgramRun, RecordedResource
from offline.sdk_types import args_class
from policies.rules.common import NOT_ARM_TAGS


def _taggable(type_token: str) -> bool:
    cls = args_class(type_token)
    return cls is not None and "tags" in pulumi_types.input_type_types(cls)


def test_resource_group_named_and_placed_from_settings(any_stack: ProgramRun) -> None:
    group = any_stack.one("azure-native:resources:ResourceGroup")
    env = any_stack.stack_outputs["environment"]
    assert group.inputs["resourceGroupName"] == f"rg-plat-{ENVIRONMENT_CODES[env]}-wus2"
    assert group.inputs["location"] == "westus2"
    assert group.parent is not None and group.parent.endswith("platform:core:Core::core")


def test_suffix_is_six_lowercase_alphanumerics(any_stack: ProgramRun) -> None:
    suffix = any_stack.one("random:index/randomString:RandomString")
    assert suffix.inputs["length"] == 6
    assert suffix.inputs["upper"] is False and suffix.inputs["special"] is False
    assert len(suffix.outputs["result"]) == 6


def _takes_tags(resource: RecordedResource) -> bool:
    """The generic ARM resource takes tags in the SDK, but only tracked ARM types (the ones
    with a location) accept them; proxy types such as SQL connection policies have none."""
    if resource.type == "azure-native:resources:Resource":
        return resource.inputs.get("location") is not None
    # API Management named values take a list of APIM tags, not ARM tags.
    return resource.type not in NOT_ARM_TAGS and _taggable(resource.type)


def test_every_taggable_resource_carries_the_base_and_layer_tags(any_stack: ProgramRun) -> None:
    taggable = [r for r in any_stack.resources.values() if r.custom and _takes_tags(r)]
    assert taggable, "expected at least the resource group"
    env = any_stack.stack_outputs["environment"]
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        missing = [t for t in (*REQUIRED_TAGS, "layer") if t not in tags]
        assert not missing, f"{resource.urn} lacks {missing}"
        assert tags["environment"] == env
        assert tags["managed-by"] == "pulumi"
        assert tags["layer"] == any_stack.layer_of(resource)


def test_core_component_registers_its_outputs(any_stack: ProgramRun) -> None:
    core = next(r for r in any_stack.resources.values() if r.type == "platform:core:Core")
    assert set(core.outputs) == {"resource_group_name", "resource_group_id", "name_suffix"}
    assert core.outputs["resource_group_id"].startswith("/subscriptions/")


def test_layers_take_one_placement_not_its_fields() -> None:
    """Every layer after core takes the stack context whole; none repeats what it holds."""
    import dataclasses

    from infra.core.placement import Placement
    from infra.cosmos import CosmosArgs
    from infra.database import DatabaseArgs
    from infra.etl import EtlArgs
    from infra.messaging import MessagingArgs
    from infra.networking import NetworkingArgs
    from infra.observability import ObservabilityArgs
    from infra.redis import RedisArgs
    from infra.security import SecurityArgs

    placed = {f.name for f in dataclasses.fields(Placement)} | {"environment", "monitoring"}
    for args in (
        ObservabilityArgs,
        NetworkingArgs,
        SecurityArgs,
        DatabaseArgs,
        MessagingArgs,
        EtlArgs,
        RedisArgs,
        CosmosArgs,
    ):
        names = {f.name for f in dataclasses.fields(args)}
        assert "placement" in names, args.__name__
        assert not names & placed, (args.__name__, names & placed)
