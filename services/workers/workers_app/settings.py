"""What the workers read from app settings: entity names, service URLs, identity connections.

The Functions host reads the identity-based connection settings itself (`<prefix>__<key>`);
they are modelled here too so one list (settings-manifest.json) says everything the app
needs and start-up refuses a deployment that would fall back to secrets or the wrong
identity. https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus#identity-based-connections
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal, Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "dev", "qa", "staging", "prod"]
MANAGED_IDENTITY = "managedidentity"


def _alias(name: str) -> AliasChoices:
    return AliasChoices(name)


class WorkersSettings(BaseSettings):
    """Settings of the Functions app; names are the app settings the stack sets."""

    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", frozen=True, env_file=None, populate_by_name=True
    )

    environment: Environment = Field(
        "local", description="Deployment environment; anything but `local` requires Azure settings."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of the workers' own loggers."
    )
    # --- identity-based connections, read by the Functions host (and checked here) ---------
    storage_account_name: str | None = Field(
        None,
        validation_alias=_alias("AzureWebJobsStorage__accountName"),
        description="Host storage account name (identity-based AzureWebJobsStorage).",
        json_schema_extra={"required_in_azure": True, "reader": "host"},
    )
    storage_credential: str | None = Field(
        None,
        validation_alias=_alias("AzureWebJobsStorage__credential"),
        description="Must be `managedidentity`: the user-assigned identity, not a key.",
        json_schema_extra={"required_in_azure": True, "reader": "host"},
    )
    storage_client_id: str | None = Field(
        None,
        validation_alias=_alias("AzureWebJobsStorage__clientId"),
        description="Client id of the workers' user-assigned identity for host storage.",
        json_schema_extra={"required_in_azure": True, "reader": "host"},
    )
    servicebus_namespace: str | None = Field(
        None,
        validation_alias=_alias("ServiceBusConnection__fullyQualifiedNamespace"),
        description=(
            "Service Bus namespace FQDN for the triggers (host) and for publishing (app); "
            "unset locally = the in-memory bus."
        ),
        json_schema_extra={"required_in_azure": True, "reader": "host+app"},
    )
    servicebus_credential: str | None = Field(
        None,
        validation_alias=_alias("ServiceBusConnection__credential"),
        description="Must be `managedidentity` (local auth is disabled on the namespace).",
        json_schema_extra={"required_in_azure": True, "reader": "host"},
    )
    servicebus_client_id: str | None = Field(
        None,
        validation_alias=_alias("ServiceBusConnection__clientId"),
        description="Client id of the workers' user-assigned identity for Service Bus.",
        json_schema_extra={"required_in_azure": True, "reader": "host+app"},
    )
    applicationinsights_connection_string: str | None = Field(
        None,
        description="Application Insights connection string (host and worker telemetry).",
        json_schema_extra={"required_in_azure": True, "reader": "host+app"},
    )
    # --- entities (binding expressions %NAME% in the triggers read the same settings) -----
    servicebus_orders_queue: str = Field(
        "orders-queue", description="Session-enabled queue of order commands."
    )
    servicebus_events_topic: str = Field("events-topic", description="Topic of domain events.")
    servicebus_events_subscription: str = Field(
        "topic-worker", description="events-topic subscription the topic worker reads."
    )
    servicebus_notify_subscription: str = Field(
        "notifications",
        description="events-topic subscription (filtered to notifiable events) for the fan-out.",
    )
    servicebus_notifications_topic: str = Field(
        "notifications-topic", description="Topic of notifications to record and deliver."
    )
    servicebus_notifier_subscription: str = Field(
        "notifier", description="notifications-topic subscription of the notifications consumer."
    )
    orders_queue_max_delivery_count: int = Field(
        5,
        ge=1,
        le=2000,
        description=(
            "orders-queue's MaxDeliveryCount: on the last delivery a transient failure is "
            "dead-lettered with its reason instead of being abandoned once more."
        ),
    )
    subscription_max_delivery_count: int = Field(
        5, ge=1, le=2000, description="MaxDeliveryCount of the workers' topic subscriptions."
    )
    risk_price_collar_percent: Decimal = Field(
        Decimal("10"),
        gt=0,
        le=100,
        description=(
            "Largest distance (percent) of a limit price from the instrument's reference "
            "price that the queue worker accepts; further out is rejected as a fat finger."
        ),
    )
    # --- the services the workers call ----------------------------------------------------
    orders_api_base_url: str = Field(
        "http://127.0.0.1:8002", description="orders-api base URL (internal ingress)."
    )
    products_api_base_url: str = Field(
        "http://127.0.0.1:8003", description="products-api base URL (internal ingress)."
    )
    payments_api_base_url: str = Field(
        "http://127.0.0.1:8004", description="payments-api base URL (internal ingress)."
    )
    users_api_base_url: str = Field(
        "http://127.0.0.1:8001", description="users-api base URL (internal ingress)."
    )
    workers_caller_id: str = Field(
        "svc-workers",
        min_length=1,
        max_length=128,
        description="Caller id the workers present to the services (X-Caller-Id).",
    )
    http_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Timeout of each call to a service."
    )
    etl_load_batch_size: int = Field(
        1000,
        ge=1,
        le=2000,
        description=(
            "Instruments per products-api batch load; at most products-api's "
            "PRODUCTS_LOAD_MAX_ITEMS (default 1000)."
        ),
    )
    etl_load_max_attempts: int = Field(
        5,
        ge=1,
        le=20,
        description=(
            "Tries of one batch load (timeouts, 408/425/429/5xx, 409) with exponential backoff "
            "before the run ends failed; a repeat is safe, loads are idempotent."
        ),
    )

    @model_validator(mode="after")
    def _azure_settings_present(self) -> Self:
        """Outside `local`, every identity setting is set and names the managed identity."""
        if self.environment == "local":
            return self
        problems = [
            str(field.validation_alias.choices[0])
            if isinstance(field.validation_alias, AliasChoices)
            else name.upper()
            for name, field in type(self).model_fields.items()
            if isinstance(field.json_schema_extra, dict)
            and field.json_schema_extra.get("required_in_azure")
            and getattr(self, name) in (None, "")
        ]
        if problems:
            raise ValueError(f"ENVIRONMENT={self.environment} requires: {', '.join(problems)}")
        wrong = [
            f"{setting}={value!r}"
            for setting, value in (
                ("AzureWebJobsStorage__credential", self.storage_credential),
                ("ServiceBusConnection__credential", self.servicebus_credential),
            )
            if value != MANAGED_IDENTITY
        ]
        if wrong:
            raise ValueError(f"{', '.join(wrong)}: only {MANAGED_IDENTITY!r} is allowed")
        return self


@lru_cache
def get_settings() -> WorkersSettings:
    return WorkersSettings()
