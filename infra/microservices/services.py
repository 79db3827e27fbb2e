"""The four services as one table: what each reads, calls, publishes and consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from config.images import ServiceName
from infra.functions.app_settings import WORKERS_CALLER_ID

# Health routes of every service (services/shared/platform_common/app.py, health_router).
LIVENESS_PATH = "/health/live"
READINESS_PATH = "/health/ready"

# Settings only the local platform reads: SQLite instead of Azure SQL (used only when
# AZURE_SQL_SERVER is unset), and the local-file bus shared by `make run-platform`.
LOCAL_ONLY_SETTINGS = frozenset({"DATABASE_URL", "LOCAL_BUS_PATH"})


@dataclass(frozen=True)
class BusConsumer:
    """A Service Bus entity a service receives from: its replicas scale on the backlog."""

    queue: str | None = None
    topic: str | None = None
    subscription: str | None = None
    # Messages per replica before KEDA adds another.
    message_count: int = 5

    def __post_init__(self) -> None:
        if (self.queue is None) == (self.topic is None):
            raise ValueError("a Service Bus consumer names a queue, or a topic, not both")
        if (self.topic is None) != (self.subscription is None):
            raise ValueError(
                "a Service Bus topic consumer needs its subscription, and only a topic has one"
            )


@dataclass(frozen=True)
class ServiceSpec:
    """One service's place in the platform, as its settings class reads it."""

    name: ServiceName
    # Publishes through its outbox to these entities (setting names of the messaging layer).
    publishes: tuple[str, ...] = ()
    # Services it calls over HTTP: it reads `<CALLEE>_API_BASE_URL`.
    calls: tuple[ServiceName, ...] = ()
    # Entities it receives from. None of the four do today: the workers (Functions) consume
    # every queue and subscription, and the services only publish.
    consumes: tuple[BusConsumer, ...] = ()
    # Key Vault secrets it reads, by env var name -> secret name (infra/security/secrets.py).
    secrets: Mapping[str, str] = field(default_factory=dict)
    # Its own tunables, set explicitly so the stack, not a code default, decides them.
    tunables: Mapping[str, str] = field(default_factory=dict)
    # Serves POST /internal/v1/authenticate, which only API Management may call: it reads
    # AUTHENTICATE_ALLOWED_CIDRS (the gateway subnet) and refuses to start in Azure without.
    authenticates_for_gateway: bool = False


_COMMON_TUNABLES = {"LOG_LEVEL": "INFO", "MAX_REQUEST_BODY_BYTES": "1048576"}
_OUTBOX_TUNABLES = {"OUTBOX_BATCH_SIZE": "100", "OUTBOX_POLL_INTERVAL_SECONDS": "2"}

SERVICES: dict[ServiceName, ServiceSpec] = {
    "users": ServiceSpec(
        "users",
        # Audit records, and UserErased for the workers to carry an erasure to the others.
        publishes=("SERVICEBUS_AUDIT_QUEUE", "SERVICEBUS_EVENTS_TOPIC"),
        authenticates_for_gateway=True,
        tunables={
            **_COMMON_TUNABLES,
            **_OUTBOX_TUNABLES,
            # Only the workers may record notifications, finish erasures and purge.
            "WORKERS_CALLER_ID": WORKERS_CALLER_ID,
            # Behind Container Apps ingress the caller is the X-Forwarded-For entry ingress
            # appends: https://learn.microsoft.com/azure/container-apps/ingress-overview#http-headers
            "AUTHENTICATE_CLIENT_ADDRESS": "forwarded-for",
            # Argon2id at OWASP's first configuration (19 MiB, 2 iterations, 1 lane):
            # https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
            "PASSWORD_HASH_MEMORY_KIB": "19456",
            "PASSWORD_HASH_TIME_COST": "2",
            "PASSWORD_HASH_PARALLELISM": "1",
        },
    ),
    "orders": ServiceSpec(
        "orders",
        publishes=("SERVICEBUS_ORDERS_QUEUE", "SERVICEBUS_EVENTS_TOPIC", "SERVICEBUS_AUDIT_QUEUE"),
        calls=("products",),
        tunables={
            **_COMMON_TUNABLES,
            **_OUTBOX_TUNABLES,
            # Only the workers may apply an erasure or purge.
            "WORKERS_CALLER_ID": WORKERS_CALLER_ID,
            "ORDERS_MAX_NOTIONAL_PER_ORDER": "1000000",
            "ORDERS_MAX_OPEN_ORDERS_PER_USER": "50",
            "PRODUCTS_API_TIMEOUT_SECONDS": "2",
        },
    ),
    "products": ServiceSpec(
        "products",
        publishes=("SERVICEBUS_AUDIT_QUEUE",),
        tunables={
            **_COMMON_TUNABLES,
            **_OUTBOX_TUNABLES,
            "PRODUCTS_CACHE_MAX_AGE_SECONDS": "300",
            # The workers' ETL loads in batches of ETL_LOAD_BATCH_SIZE: at most this many.
            "PRODUCTS_LOAD_MAX_ITEMS": "1000",
            "PRODUCTS_LOAD_TICK_SIZE": "0.0001",
            # Only the workers may batch-load instruments.
            "WORKERS_CALLER_ID": WORKERS_CALLER_ID,
        },
    ),
    "payments": ServiceSpec(
        "payments",
        publishes=("SERVICEBUS_EVENTS_TOPIC", "SERVICEBUS_AUDIT_QUEUE"),
        calls=("orders",),
        tunables={
            **_COMMON_TUNABLES,
            **_OUTBOX_TUNABLES,
            # Only the workers may apply an erasure or purge.
            "WORKERS_CALLER_ID": WORKERS_CALLER_ID,
            "ORDERS_API_ATTEMPTS": "3",
            "ORDERS_API_TIMEOUT_SECONDS": "2",
        },
    ),
}


def base_url_setting(service: ServiceName) -> str:
    """The setting a caller reads a service's URL from: ORDERS_API_BASE_URL, ..."""
    return f"{service.upper()}_API_BASE_URL"


@dataclass(frozen=True)
class PlatformInputs:
    """What earlier layers made that the services' settings point at."""

    environment: str
    app_insights_connection_string: pulumi.Input[str]
    sql_server_fqdn: pulumi.Input[str]
    sql_database_name: pulumi.Input[str]
    servicebus_namespace: pulumi.Input[str]
    # The messaging layer's entity-name settings (SERVICEBUS_ORDERS_QUEUE, ...).
    servicebus_settings: Mapping[str, pulumi.Input[str]]
    urls: Mapping[ServiceName, pulumi.Input[str]]
    # The API Management subnet: the only callers of users-api's authenticate endpoint.
    gateway_subnet_cidr: str
    # How long each service keeps personal data (config/audit.py, the retention purge).
    personal_data_retention_days: Mapping[ServiceName, int]


def service_settings(
    spec: ServiceSpec, platform: PlatformInputs, *, client_id: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    """Every environment variable the service reads in Azure, except its secrets."""
    settings: dict[str, pulumi.Input[str]] = {
        "ENVIRONMENT": platform.environment,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": platform.app_insights_connection_string,
        # DefaultAzureCredential picks the user-assigned identity by this client id.
        "AZURE_CLIENT_ID": client_id,
        # Entra token auth to the one database (infra/database grants each identity).
        "AZURE_SQL_SERVER": platform.sql_server_fqdn,
        "AZURE_SQL_DATABASE": platform.sql_database_name,
        "PERSONAL_DATA_RETENTION_DAYS": str(platform.personal_data_retention_days[spec.name]),
    }
    if spec.publishes:
        settings["MESSAGING_MODE"] = "servicebus"
        settings["SERVICEBUS_FULLY_QUALIFIED_NAMESPACE"] = platform.servicebus_namespace
        for entity in spec.publishes:
            if entity not in platform.servicebus_settings:
                raise ValueError(
                    f"{spec.name} publishes to {entity}, which the messaging layer does not "
                    f"set; known: {', '.join(sorted(platform.servicebus_settings))}"
                )
            settings[entity] = platform.servicebus_settings[entity]
    for callee in spec.calls:
        settings[base_url_setting(callee)] = platform.urls[callee]
    if spec.authenticates_for_gateway:
        settings["AUTHENTICATE_ALLOWED_CIDRS"] = platform.gateway_subnet_cidr
    clash = sorted(set(settings) & set(spec.tunables))
    if clash:
        raise ValueError(f"{spec.name}: tunables {clash} are set from the platform already")
    return {**settings, **spec.tunables}
