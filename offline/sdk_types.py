"""Checks recorded resource inputs against the provider SDK's own input types.

Pulumi mocks accept any property, so a misspelled nested key would only fail at
`pulumi up`. This walks every input the program sent and compares it with the
generated `*Args` input classes: unknown property names and missing required
properties become errors here.
"""

from __future__ import annotations

import collections.abc
import functools
import importlib
import inspect
import sys
import typing
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi import _types as pulumi_types

# Package prefix of a type token -> Python package of its SDK.
SDK_PACKAGES = {"azure-native": "pulumi_azure_native", "random": "pulumi_random"}


@dataclass(frozen=True)
class InputProblem:
    """One input that the provider would reject."""

    urn: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.urn}: {self.path}: {self.message}"


def resource_class(type_token: str) -> type | None:
    """The SDK class for a token like `azure-native:network:VirtualNetwork`, if it is known."""
    package, _, rest = type_token.partition(":")
    module_part, _, class_name = rest.partition(":")
    python_package = SDK_PACKAGES.get(package)
    if python_package is None:
        return None
    module_name = python_package
    if module_part.split("/")[0] not in ("index", ""):
        module_name = f"{python_package}.{module_part.split('/')[0].replace('-', '_')}"
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, class_name, None)
    return found if isinstance(found, type) else None


@functools.cache
def args_class(type_token: str) -> type | None:
    """The `@input_type` class holding a resource's top-level inputs."""
    cls = resource_class(type_token)
    if cls is None:
        return None
    module = sys.modules[cls.__module__]
    # The generator names the class `<Resource>InitArgs` when a nested `<Resource>Args`
    # exists, so only a class defined beside the resource counts.
    for candidate in (f"{cls.__name__}InitArgs", f"{cls.__name__}Args"):
        found = getattr(module, candidate, None)
        if (
            isinstance(found, type)
            and found.__module__ == cls.__module__
            and pulumi_types.is_input_type(found)
        ):
            return found
    return None


def check_resource_inputs(urn: str, type_token: str, inputs: dict[str, Any]) -> list[InputProblem]:
    """Every problem in one resource's inputs; empty when the SDK would accept them."""
    cls = args_class(type_token)
    if cls is None:
        if type_token.split(":", maxsplit=1)[0] in SDK_PACKAGES:
            return [InputProblem(urn, "", f"no SDK input type found for {type_token}")]
        return []
    problems: list[InputProblem] = []
    _check_object(urn, cls, inputs, "", problems)
    return problems


def _check_object(urn: str, cls: type, value: Any, path: str, problems: list[InputProblem]) -> None:
    if not isinstance(value, collections.abc.Mapping):
        problems.append(
            InputProblem(
                urn, path or "<root>", f"expected an object ({cls.__name__}), got {value!r}"
            )
        )
        return
    types = pulumi_types.input_type_types(cls)
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if key not in types:
            problems.append(
                InputProblem(
                    urn,
                    where,
                    f"unknown property {key!r} for {cls.__name__}; known: "
                    + ", ".join(sorted(types)),
                )
            )
            continue
        _check_value(urn, types[key], item, where, problems)
    for key in sorted(_required(cls)):
        if value.get(key) is None:
            where = f"{path}.{key}" if path else key
            problems.append(
                InputProblem(urn, where, f"required property of {cls.__name__} is missing")
            )


def _required(cls: type) -> frozenset[str]:
    """Pulumi names of the constructor parameters that have no default."""
    names = pulumi_types.input_type_py_to_pulumi_names(cls)
    required = set()
    for param in inspect.signature(cls).parameters.values():
        if param.kind is param.KEYWORD_ONLY and param.default is inspect.Parameter.empty:
            required.add(names.get(param.name, param.name))
    return frozenset(required)


def _check_value(urn: str, typ: Any, value: Any, path: str, problems: list[InputProblem]) -> None:
    if value is None:
        return
    typ = pulumi_types.unwrap_type(typ)
    origin = typing.get_origin(typ)
    if origin is typing.Union or str(origin) == "types.UnionType":
        members = [m for m in typing.get_args(typ) if not _is_plumbing(m)]
        if len(members) == 1:
            _check_value(urn, members[0], value, path, problems)
            return
        _check_union(urn, members, value, path, problems)
        return
    if origin in (collections.abc.Sequence, list, typing.Sequence):
        (item_type,) = typing.get_args(typ) or (Any,)
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                _check_value(urn, item_type, item, f"{path}[{index}]", problems)
        return
    if origin in (collections.abc.Mapping, dict, typing.Mapping):
        args = typing.get_args(typ)
        if len(args) == 2 and isinstance(value, collections.abc.Mapping):
            for key, item in value.items():
                _check_value(urn, args[1], item, f"{path}.{key}", problems)
        return
    if isinstance(typ, type) and pulumi_types.is_input_type(typ):
        _check_object(urn, typ, value, path, problems)


def _check_union(
    urn: str, members: list[Any], value: Any, path: str, problems: list[InputProblem]
) -> None:
    """A union of shapes (str | enum, or several input types such as firewall rule kinds):
    an object must fit at least one of the input types; report against the closest."""
    objects = [m for m in members if isinstance(m, type) and pulumi_types.is_input_type(m)]
    if not objects or not isinstance(value, collections.abc.Mapping):
        return
    attempts: list[list[InputProblem]] = []
    for member in objects:
        found: list[InputProblem] = []
        _check_object(urn, member, value, path, found)
        if not found:
            return
        attempts.append(found)
    problems.extend(sorted(attempts, key=len)[0])


def _is_plumbing(member: Any) -> bool:
    """Awaitable[...] / Output[...] / None members that `Input[T]` adds around T."""
    origin = typing.get_origin(member)
    return member is type(None) or origin in (
        collections.abc.Awaitable,
        typing.Awaitable,
        pulumi.Output,
    )
