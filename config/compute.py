"""The compute layers' settings: the workers' Functions app (and the Container Apps)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from config.base import _Model


class FunctionsSettings(_Model):
    """Scale of the workers' Flex Consumption app (functionAppConfig.scaleAndConcurrency).

    Flex takes 40-1000 as the per-function-group instance ceiling and 512, 2048 or 4096 MB
    per instance; HTTP concurrency is per instance (the workers' Service Bus concurrency is
    in host.json). https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#set-instance-memory
    """

    maximum_instance_count: Annotated[int, Field(ge=40, le=1000)] = 40
    instance_memory_mb: Literal[512, 2048, 4096] = 2048
    http_per_instance_concurrency: Annotated[int, Field(ge=1, le=1000)] = 16
    python_version: Literal["3.10", "3.11", "3.12"] = "3.11"
