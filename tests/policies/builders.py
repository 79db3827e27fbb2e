"""Props, contexts and records for policy tests, built the way the engine would send them."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from policies.constants import Environment
from policies.core import ResourceRecord, RuleContext, normalize

# What the engine sends for a string it cannot know during preview.
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_BOOL = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"

TAGS = {
    "environment": "prod",
    "project": "platform",
    "owner": "platform-team",
    "cost-center": "CC-1001",
    "managed-by": "pulumi",
}


def ctx(
    environment: Environment = "prod",
    resource_type: str = "",
    name: str = "res",
    **options: Any,
) -> RuleContext:
    return RuleContext(
        environment, options, resource_type, f"urn:pulumi:x::p::{resource_type}::{name}", name
    )


def with_path(props: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `props` with `path` (dotted) set to `value`, creating maps as needed."""
    out = copy.deepcopy(dict(props))
    node = out
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    result: dict[str, Any] = normalize(out)
    return result


def without_path(props: Mapping[str, Any], path: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(props))
    node = out
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[part]
    node.pop(leaf, None)
    result: dict[str, Any] = normalize(out)
    return result


def record(
    type_: str,
    name: str,
    props: Mapping[str, Any] | None = None,
    *,
    protect: bool = False,
    dependencies: tuple[str, ...] = (),
    property_dependencies: Mapping[str, tuple[str, ...]] | None = None,
    id_: str | None = None,
) -> ResourceRecord:
    return ResourceRecord(
        type=type_,
        urn=urn(type_, name),
        name=name,
        props=normalize(dict(props or {})),
        protect=protect,
        dependencies=dependencies,
        property_dependencies=dict(property_dependencies or {}),
        id=id_,
    )


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:prod::platform::{type_}::{name}"


def arm_id(provider: str, collection: str, name: str) -> str:
    return (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-plat-prod-wus2"
        f"/providers/{provider}/{collection}/{name}"
    )
