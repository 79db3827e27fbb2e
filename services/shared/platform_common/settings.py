"""Settings shared by every service; each service subclasses and caches its own."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "dev", "qa", "staging", "prod"]


class ServiceSettings(BaseSettings):
    """Database, identity and telemetry settings every service reads."""

    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", frozen=True, env_file=None
    )

    environment: Environment = Field(
        "local", description="Deployment environment; anything but `local` requires Azure settings."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Root log level."
    )
    database_url: str = Field(
        "sqlite:///./local.db",
        description="SQLAlchemy URL used when AZURE_SQL_SERVER is not set (local SQLite).",
    )
    azure_sql_server: str | None = Field(
        None,
        description=(
            "Azure SQL server FQDN (e.g. sql-x.database.windows.net); enables Entra token auth."
        ),
        json_schema_extra={"required_in_azure": True},
    )
    azure_sql_database: str | None = Field(
        None,
        description="Azure SQL database name.",
        json_schema_extra={"required_in_azure": True},
    )
    azure_client_id: str | None = Field(
        None,
        description="Client id of the user-assigned managed identity used for SQL and Service Bus.",
        json_schema_extra={"required_in_azure": True},
    )
    applicationinsights_connection_string: str | None = Field(
        None,
        description="Application Insights connection string; when unset logs are JSON on stdout.",
        json_schema_extra={"required_in_azure": True},
    )

    max_request_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        le=67_108_864,
        description=(
            "Largest request body accepted (bytes); larger ones get 413 before being read."
        ),
    )

    @property
    def uses_azure_sql(self) -> bool:
        """True when the service must connect to Azure SQL with an Entra token."""
        return self.azure_sql_server is not None

    @model_validator(mode="after")
    def _azure_settings_present(self) -> Self:
        """Fail at start-up, naming the variables, instead of on the first request."""
        if self.environment == "local":
            return self
        missing = [
            name.upper()
            for name, field in type(self).model_fields.items()
            if isinstance(field.json_schema_extra, dict)
            and field.json_schema_extra.get("required_in_azure")
            and getattr(self, name) in (None, "")
        ]
        if missing:
            raise ValueError(
                f"ENVIRONMENT={self.environment} requires: {', '.join(sorted(missing))}"
            )
        return self


class MessagingSettings(ServiceSettings):
    """Settings for services that publish through the transactional outbox."""

    servicebus_fully_qualified_namespace: str | None = Field(
        None,
        description=(
            "Service Bus namespace FQDN (<ns>.servicebus.windows.net); unset = in-memory bus."
        ),
        json_schema_extra={"required_in_azure": True},
    )
    messaging_mode: Literal["servicebus", "memory", "local-file"] | None = Field(
        None,
        description=(
            "Bus the outbox publishes to: servicebus, memory (this process only) or local-file "
            "(one SQLite file shared by the local processes, LOCAL_BUS_PATH); unset = "
            "servicebus when SERVICEBUS_FULLY_QUALIFIED_NAMESPACE is set, else memory."
        ),
    )
    local_bus_path: str | None = Field(
        None, description="SQLite file of the local-file bus (MESSAGING_MODE=local-file)."
    )
    servicebus_audit_queue: str = Field(
        "audit-queue",
        description="Queue audit records go to; the workers append them to the audit store.",
    )
    outbox_poll_interval_seconds: float = Field(
        2.0, gt=0, le=300, description="How often unpublished outbox rows are retried."
    )
    outbox_batch_size: int = Field(
        100, gt=0, le=1000, description="Outbox rows published per dispatch pass."
    )

    @model_validator(mode="after")
    def _messaging_mode_consistent(self) -> Self:
        """local-file needs its path and stays on a developer's machine."""
        if self.messaging_mode == "local-file":
            if not self.local_bus_path:
                raise ValueError("MESSAGING_MODE=local-file requires LOCAL_BUS_PATH (a file path)")
            if self.environment != "local":
                raise ValueError(
                    f"MESSAGING_MODE=local-file is for ENVIRONMENT=local only, not "
                    f"{self.environment}; allowed there: servicebus"
                )
        if self.messaging_mode == "servicebus" and not self.servicebus_fully_qualified_namespace:
            raise ValueError(
                "MESSAGING_MODE=servicebus requires SERVICEBUS_FULLY_QUALIFIED_NAMESPACE"
            )
        return self


class EventsPublisherSettings(MessagingSettings):
    """A publisher of domain events as well as audit records (users, orders, payments)."""

    servicebus_events_topic: str = Field("events-topic", description="Topic for domain events.")


# MiFID II record keeping: Art. 16(6) MiFID II, Commission Delegated Regulation (EU)
# 2017/565 Art. 72(1) and MiFIR Art. 25(1) keep order and transaction records at least five
# years (up to seven at the regulator's request). https://eur-lex.europa.eu/eli/dir/2014/65/oj
MIFID_RECORD_KEEPING_DAYS = 1825


class RecordKeepingSettings(EventsPublisherSettings):
    """A service whose records the law keeps (orders, settlements): in prod they keep whose
    they are for the record-keeping period before the purge pseudonymises them."""

    personal_data_retention_days: int = Field(
        MIFID_RECORD_KEEPING_DAYS,
        ge=1,
        le=3650,
        description=(
            "Days finished records (orders, settlements) keep the user's id; the workers' "
            "daily purge then pseudonymises it (in prod at least 1825: MiFID II's five years)."
        ),
    )

    @model_validator(mode="after")
    def _record_keeping_in_prod(self) -> Self:
        days = self.personal_data_retention_days
        if self.environment == "prod" and days < MIFID_RECORD_KEEPING_DAYS:
            raise ValueError(
                f"PERSONAL_DATA_RETENTION_DAYS={days} in prod: MiFID II keeps order and "
                f"transaction records five years; allowed: {MIFID_RECORD_KEEPING_DAYS}-3650"
            )
        return self
