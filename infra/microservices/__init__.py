"""Microservices layer: the internal Container Apps environment and the four services."""

from infra.microservices.component import Microservices, MicroservicesArgs, ingress_callers
from infra.microservices.container_app import (
    PROBES,
    CallerRange,
    ServiceApp,
    ServiceAppArgs,
    probes,
    secret_references,
    traffic_weights,
)
from infra.microservices.scale import SERVICEBUS_SCALER, http_scale_rule, servicebus_scale_rule
from infra.microservices.services import (
    LIVENESS_PATH,
    LOCAL_ONLY_SETTINGS,
    READINESS_PATH,
    SERVICES,
    BusConsumer,
    PlatformInputs,
    ServiceSpec,
    base_url_setting,
    service_settings,
)

__all__ = [
    "LIVENESS_PATH",
    "LOCAL_ONLY_SETTINGS",
    "PROBES",
    "READINESS_PATH",
    "SERVICEBUS_SCALER",
    "SERVICES",
    "BusConsumer",
    "CallerRange",
    "Microservices",
    "MicroservicesArgs",
    "PlatformInputs",
    "ServiceApp",
    "ServiceAppArgs",
    "ServiceSpec",
    "base_url_setting",
    "http_scale_rule",
    "ingress_callers",
    "probes",
    "secret_references",
    "service_settings",
    "servicebus_scale_rule",
    "traffic_weights",
]
