"""The whole program, run for every stack from its own stack file."""

from __future__ import annotations

from infra.core.naming import ENVIRONMENT_CODES
from offline.engine import ProgramRun


def test_every_stack_runs_cleanly(any_stack: ProgramRun) -> None:
    assert any_stack.error is None
    assert any_stack.problems == []
    assert any_stack.resources


def test_every_child_is_parented_by_a_layer_component(any_stack: ProgramRun) -> None:
    for resource in any_stack.resources.values():
        if resource.custom:
            assert resource.parent in any_stack.resources, f"{resource.urn} has no component parent"


def test_stack_exports_describe_the_environment(any_stack: ProgramRun) -> None:
    outputs = any_stack.stack_outputs
    assert outputs["environment"] == any_stack.stack
    assert outputs["location"] == "westus2"
    assert outputs["resource_group_name"] == f"rg-plat-{ENVIRONMENT_CODES[any_stack.stack]}-wus2"
