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

from pydantic import AliasChoices, Field, SecretStr, model_validator
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
    # --- the local platform (make run-platform): one bus file shared by every process ------
    messaging_mode: Literal["servicebus", "memory", "local-file"] | None = Field(
        None,
        description=(
            "Bus the workers publish to: servicebus, memory or local-file (LOCAL_BUS_PATH, "
            "read by the local runner too); unset = servicebus when the namespace is set."
        ),
    )
    local_bus_path: str | None = Field(
        None, description="SQLite file of the local-file bus (MESSAGING_MODE=local-file)."
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
    servicebus_erasure_subscription: str = Field(
        "erasure",
        description=(
            "events-topic subscription (filtered to UserErased) that propagate_erasure reads."
        ),
    )
    erasure_max_delivery_count: int = Field(
        10,
        ge=1,
        le=2000,
        description=(
            "MaxDeliveryCount of the erasure subscription: an erasure is retried longer than "
            "other events before its dead letter says why."
        ),
    )
    retention_purge_schedule: str = Field(
        "0 30 2 * * *",
        pattern=r"^\S+( \S+){5}$",
        description=(
            "NCRONTAB (six fields, UTC) of the purge_personal_data timer "
            "(`%RETENTION_PURGE_SCHEDULE%`), which calls every service's retention purge."
        ),
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

    # --- third-party sync on thirdparty-queue ---------------------------------------------
    servicebus_thirdparty_queue: str = Field(
        "thirdparty-queue", description="Queue of instrument enrichment requests (one ISIN each)."
    )
    thirdparty_queue_max_delivery_count: int = Field(
        10,
        ge=1,
        le=2000,
        description="thirdparty-queue's MaxDeliveryCount: its last delivery dead-letters.",
    )
    openfigi_base_url: str = Field(
        "https://api.openfigi.com", description="OpenFIGI API (POST /v3/mapping)."
    )
    openfigi_api_key: SecretStr | None = Field(
        None,
        description=(
            "Optional OpenFIGI API key; in Azure a Key Vault reference "
            "(@Microsoft.KeyVault(SecretUri=...)) the platform resolves with the app's identity."
        ),
    )
    # Published limits (https://www.openfigi.com/api#rate-limit): without a key 25 mapping
    # requests per minute (10 jobs each), with a key 25 requests per 6 seconds (100 jobs).
    openfigi_rate_limit_requests: int = Field(
        25, ge=1, description="OpenFIGI mapping requests allowed per window."
    )
    openfigi_rate_limit_period_seconds: float = Field(
        60.0, gt=0, description="OpenFIGI rate-limit window without an API key."
    )
    openfigi_keyed_rate_limit_period_seconds: float = Field(
        6.0, gt=0, description="OpenFIGI rate-limit window with an API key."
    )
    gleif_base_url: str = Field(
        "https://api.gleif.org", description="GLEIF API (GET /api/v1/lei-records/{lei})."
    )
    # GLEIF API v1 documentation: 60 requests per minute per user
    # (https://documenter.getpostman.com/view/7679680/SVYrrxuU, "Rate Limiting").
    gleif_rate_limit_requests: int = Field(
        60, ge=1, description="GLEIF requests allowed per window."
    )
    gleif_rate_limit_period_seconds: float = Field(
        60.0, gt=0, description="GLEIF rate-limit window."
    )
    thirdparty_timeout_seconds: float = Field(
        15.0, gt=0, le=120, description="Timeout of each call to a third-party API."
    )
    thirdparty_retry_attempts: int = Field(
        4, ge=1, le=10, description="Attempts per provider call within one delivery."
    )
    thirdparty_retry_initial_seconds: float = Field(
        1.0, gt=0, le=60, description="First backoff wait; doubles per attempt."
    )
    thirdparty_retry_max_seconds: float = Field(
        60.0,
        gt=0,
        le=300,
        description="Longest backoff wait; a longer Retry-After is still honoured in full.",
    )

    # --- ETL: timer, etl-queue, ESMA register, blob staging --------------------------------
    etl_schedule: str = Field(
        "0 30 7 * * *",
        description=(
            "NCRONTAB (six fields, UTC) of the ETL timer (`%ETL_SCHEDULE%`); it runs the "
            "current UTC day's files."
        ),
    )
    servicebus_etl_queue: str = Field(
        "etl-queue", description="Queue of ETL run requests (one publication day each)."
    )
    etl_queue_max_delivery_count: int = Field(
        3, ge=1, le=2000, description="etl-queue's MaxDeliveryCount."
    )
    esma_register_base_url: str = Field(
        "https://registers.esma.europa.eu",
        description="ESMA registers host (FIRDS files solr core; downloads follow its links).",
    )
    esma_file_types: str = Field(
        "FULINS",
        pattern=r"^(FULINS|DLTINS|FULCAN)(,(FULINS|DLTINS|FULCAN))*$",
        description="Comma-separated FIRDS file types a run loads (FULINS, DLTINS, FULCAN).",
    )
    esma_timeout_seconds: float = Field(
        120.0, gt=0, le=600, description="Timeout of each register call and download read."
    )
    etl_max_file_bytes: int = Field(
        2_000_000_000, ge=1, description="Largest FIRDS zip a run downloads."
    )
    etl_batch_size: int = Field(5000, ge=1, le=100_000, description="Rows per upsert batch.")
    etl_store: Literal["products-api", "sqlite"] = Field(
        "products-api",
        description=(
            "Where an ETL run loads instruments: products-api (their owner, in batches of "
            "ETL_LOAD_BATCH_SIZE) or a local SQLite file (ETL_SQLITE_PATH; benchmarks, tools)."
        ),
    )
    etl_sqlite_path: str = Field(
        "firds.db",
        description="SQLite file of the ETL's instrument store and run records.",
    )
    staging_blob_account_url: str | None = Field(
        None,
        description=(
            "Blob endpoint of the staging account (https://<name>.blob.core.windows.net), "
            "reached with the workers' identity."
        ),
        json_schema_extra={"required_in_azure": True},
    )
    staging_blob_connection_string: SecretStr | None = Field(
        None,
        description="Local only: an Azurite connection string (never set in Azure).",
    )
    staging_container: str = Field(
        "raw", description="Container where raw FIRDS files are staged (infra/etl `raw`)."
    )
    archive_container: str = Field(
        "archive",
        description="Container processed files move to (`loaded|rejected/<day>/`; infra/etl).",
    )

    # --- audit trail: audit-queue into the immutable audit store ---------------------------
    servicebus_audit_queue: str = Field(
        "audit-queue",
        description="Queue of the services' audit records (schema 1), shipped to the audit store.",
    )
    audit_queue_max_delivery_count: int = Field(
        10,
        ge=1,
        le=2000,
        description=(
            "audit-queue's MaxDeliveryCount: a storage outage is retried until then, and the "
            "last delivery dead-letters with the reason (replayable), never drops a record."
        ),
    )
    audit_blob_account_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description=(
            "Blob endpoint of the audit account (https://<name>.blob.core.windows.net), "
            "written with the workers' identity (infra/audit AuditTrail.account_url)."
        ),
        json_schema_extra={"required_in_azure": True},
    )
    # Container names: 3-63 lowercase letters, digits and single hyphens, starting and
    # ending with a letter or digit.
    # https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata#container-names
    audit_blob_container: str = Field(
        "audit-records",
        min_length=3,
        max_length=63,
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        description=(
            "Container of the audit records (version-level immutability; "
            "infra/audit AuditTrail.container_name)."
        ),
    )
    audit_blob_connection_string: SecretStr | None = Field(
        None,
        description="Local only: an Azurite connection string for the audit store.",
    )

    @model_validator(mode="after")
    def _no_storage_secret_in_azure(self) -> Self:
        """Azure reaches blobs with the managed identity only (shared keys are disabled)."""
        if self.environment != "local" and self.staging_blob_connection_string is not None:
            raise ValueError(
                "STAGING_BLOB_CONNECTION_STRING is for Azurite (ENVIRONMENT=local) only; "
                "in Azure set STAGING_BLOB_ACCOUNT_URL"
            )
        if self.environment != "local" and self.audit_blob_connection_string is not None:
            raise ValueError(
                "AUDIT_BLOB_CONNECTION_STRING is for Azurite (ENVIRONMENT=local) only; "
                "in Azure set AUDIT_BLOB_ACCOUNT_URL"
            )
        if (
            self.environment != "local"
            and self.audit_blob_account_url
            and not self.audit_blob_account_url.startswith("https://")
        ):
            raise ValueError(
                f"AUDIT_BLOB_ACCOUNT_URL={self.audit_blob_account_url!r}: Azure storage is "
                "reached over https only"
            )
        return self

    thirdparty_max_retry_after_seconds: float = Field(
        120.0,
        gt=0,
        le=290,
        description=(
            "Longest Retry-After slept through within one delivery (under the queue's lock "
            "renewal); a longer one abandons the message for a later delivery."
        ),
    )

    @model_validator(mode="after")
    def _key_vault_reference_resolved(self) -> Self:
        """An unresolved reference means the identity cannot read the secret: say so at start.
        https://learn.microsoft.com/azure/app-service/app-service-key-vault-references"""
        key = self.openfigi_api_key
        if key is not None and key.get_secret_value().startswith("@Microsoft.KeyVault("):
            raise ValueError(
                "OPENFIGI_API_KEY is an unresolved Key Vault reference: grant the workers' "
                "identity 'Key Vault Secrets User' on the vault, or leave the setting unset"
            )
        return self

    @model_validator(mode="after")
    def _local_bus_consistent(self) -> Self:
        """local-file needs its path and stays on a developer's machine."""
        if self.messaging_mode == "local-file":
            if not self.local_bus_path:
                raise ValueError("MESSAGING_MODE=local-file requires LOCAL_BUS_PATH (a file path)")
            if self.environment != "local":
                raise ValueError(
                    f"MESSAGING_MODE=local-file is for ENVIRONMENT=local only, not "
                    f"{self.environment}; allowed there: servicebus"
                )
        if self.messaging_mode == "servicebus" and not self.servicebus_namespace:
            raise ValueError(
                "MESSAGING_MODE=servicebus requires ServiceBusConnection__fullyQualifiedNamespace"
            )
        return self

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
