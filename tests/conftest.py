"""The one shared mock engine for every test: the offline engine that also serves `make plan`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from config.settings import ENVIRONMENTS
from offline.engine import ProgramRun, load_stack_config, run_program


@functools.cache
def stack_run(stack: str) -> ProgramRun:
    """The program's run for a stack file, computed once per test process."""
    return run_program(stack)


@pytest.fixture(params=ENVIRONMENTS)
def any_stack(request: pytest.FixtureRequest) -> ProgramRun:
    """Each of the four stacks, run from its own Pulumi.<stack>.yaml."""
    return stack_run(request.param)


@pytest.fixture
def run_with() -> Callable[..., ProgramRun]:
    """Run a stack with its stack-file config changed, e.g. `run_with("dev", **{key: value})`."""

    def run(stack: str, drop: tuple[str, ...] = (), **changes: Any) -> ProgramRun:
        config, secrets = load_stack_config(stack)
        config = {k: v for k, v in config.items() if k not in drop}
        config.update(changes)
        return run_program(stack, config=config, secret_keys=secrets)

    return run
