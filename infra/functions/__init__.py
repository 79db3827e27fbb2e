"""Functions layer: the workers on Flex Consumption with identity-based host storage."""

from infra.functions.app_settings import (
    DEPRECATED_ON_FLEX,
    HOST_PLATFORM_SETTINGS,
    LOCAL_ONLY_SETTINGS,
    OPTIONAL_SECRET_SETTINGS,
    SERVICE_URL_SETTINGS,
    check_flex_settings,
    workers_app_settings,
)
from infra.functions.component import DEPLOYMENT_CONTAINER, Functions, FunctionsArgs

__all__ = [
    "DEPLOYMENT_CONTAINER",
    "DEPRECATED_ON_FLEX",
    "HOST_PLATFORM_SETTINGS",
    "LOCAL_ONLY_SETTINGS",
    "OPTIONAL_SECRET_SETTINGS",
    "SERVICE_URL_SETTINGS",
    "Functions",
    "FunctionsArgs",
    "check_flex_settings",
    "workers_app_settings",
]
