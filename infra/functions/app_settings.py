"""The workers' app settings: every variable services/workers reads, from earlier layers."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from infra.messaging.entities import (
    AUDIT_QUEUE,
    ENTITIES,
    ERASURE_SUBSCRIPTION,
    ETL_QUEUE,
    EVENTS_TOPIC,
    NOTIFICATIONS_SUBSCRIPTION,
    NOTIFICATIONS_TOPIC,
    NOTIFIER_SUBSCRIPTION,
    ORDERS_QUEUE,
    THIRDPARTY_QUEUE,
    TOPIC_WORKER_SUBSCRIPTION,
    QueueSpec,
    TopicSpec,
)

# Flex Consumption rejects or ignores these: runtime, scale and deployment live in
# functionAppConfig, and there is no content file share.
# https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations
DEPRECATED_ON_FLEX = frozenset(
    {
        "DOCKER_REGISTRY_SERVER_PASSWORD",
        "DOCKER_REGISTRY_SERVER_URL",
        "DOCKER_REGISTRY_SERVER_USERNAME",
        "ENABLE_ORYX_BUILD",
        "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_MAX_HTTP_CONCURRENCY",
        "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
        "FUNCTIONS_WORKER_PROCESS_COUNT",
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_WORKER_RUNTIME_VERSION",
        "PYTHON_ISOLATE_WORKER_DEPENDENCIES",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTOVERVNET",
        "WEBSITE_CONTENTSHARE",
        "WEBSITE_DNS_SERVER",
        "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
        "WEBSITE_NODE_DEFAULT_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
        "WEBSITE_VNET_ROUTE_ALL",
        "AzureWebJobsStorage",  # a connection string: identity-based `__` settings instead
    }
)

# Read by the Functions host itself, not by the workers' settings class (so not in
# services/workers/settings-manifest.json). Application Insights has local auth off, so the
# host sends telemetry with the workers' identity.
# https://learn.microsoft.com/azure/azure-functions/configure-monitoring#enable-microsoft-entra-authentication
HOST_PLATFORM_SETTINGS = frozenset({"APPLICATIONINSIGHTS_AUTHENTICATION_STRING"})

# The service URLs the workers read: the microservices layer's `urls` (internal Container
# Apps FQDNs), passed in by the composition root.
SERVICE_URL_SETTINGS = frozenset(
    {"ORDERS_API_BASE_URL", "PAYMENTS_API_BASE_URL", "PRODUCTS_API_BASE_URL", "USERS_API_BASE_URL"}
)

# Settings only the local platform reads (the workers refuse them, or ignore them, outside
# ENVIRONMENT=local): the shared local bus, Azurite's connection strings (staging and the
# audit store), the SQLite ETL store.
LOCAL_ONLY_SETTINGS = frozenset(
    {
        "LOCAL_BUS_PATH",
        "STAGING_BLOB_CONNECTION_STRING",
        "AUDIT_BLOB_CONNECTION_STRING",
        "ETL_SQLITE_PATH",
    }
)

# Set only when the stack has the OpenFIGI key (platform:openfigiApiKey, a Key Vault secret
# read by the workers at secret scope, infra/security/secrets.py); without it the sync runs
# at OpenFIGI's anonymous rate limit.
OPTIONAL_SECRET_SETTINGS = frozenset({"OPENFIGI_API_KEY"})

# The caller id the workers send as X-Caller-Id; users-api and products-api admit it alone
# for notifications and batch loads (infra/microservices/services.py sets it there too).
WORKERS_CALLER_ID = "svc-workers"

# The workers' own tunables, set explicitly so the stack, not a code default, decides them.
# Rate limits are the providers' published ones (see services/workers/README section).
WORKER_TUNABLES: dict[str, str] = {
    "HTTP_TIMEOUT_SECONDS": "10",
    "LOG_LEVEL": "INFO",
    "RISK_PRICE_COLLAR_PERCENT": "10",
    "WORKERS_CALLER_ID": WORKERS_CALLER_ID,
    "MESSAGING_MODE": "servicebus",
    # ETL: ESMA's FIRDS register, one FULINS day at 07:30 UTC, loaded into products-api.
    "ESMA_REGISTER_BASE_URL": "https://registers.esma.europa.eu",
    "ESMA_FILE_TYPES": "FULINS",
    "ESMA_TIMEOUT_SECONDS": "120",
    "ETL_SCHEDULE": "0 30 7 * * *",
    # Personal-data retention: every service's purge, daily at 02:30 UTC, before the ETL.
    "RETENTION_PURGE_SCHEDULE": "0 30 2 * * *",
    "ETL_STORE": "products-api",
    "ETL_BATCH_SIZE": "5000",
    "ETL_LOAD_BATCH_SIZE": "1000",
    "ETL_LOAD_MAX_ATTEMPTS": "5",
    "ETL_MAX_FILE_BYTES": "2000000000",
    "STAGING_CONTAINER": "raw",
    "ARCHIVE_CONTAINER": "archive",
    # Third-party sync: https://www.openfigi.com/api#rate-limit and GLEIF's API docs.
    "OPENFIGI_BASE_URL": "https://api.openfigi.com",
    "OPENFIGI_RATE_LIMIT_REQUESTS": "25",
    "OPENFIGI_RATE_LIMIT_PERIOD_SECONDS": "60",
    "OPENFIGI_KEYED_RATE_LIMIT_PERIOD_SECONDS": "6",
    "GLEIF_BASE_URL": "https://api.gleif.org",
    "GLEIF_RATE_LIMIT_REQUESTS": "60",
    "GLEIF_RATE_LIMIT_PERIOD_SECONDS": "60",
    "THIRDPARTY_TIMEOUT_SECONDS": "15",
    "THIRDPARTY_RETRY_ATTEMPTS": "4",
    "THIRDPARTY_RETRY_INITIAL_SECONDS": "1",
    "THIRDPARTY_RETRY_MAX_SECONDS": "60",
    "THIRDPARTY_MAX_RETRY_AFTER_SECONDS": "120",
}


def _queue(name: str) -> QueueSpec:
    return next(e for e in ENTITIES if isinstance(e, QueueSpec) and e.name == name)


def _topic(name: str) -> TopicSpec:
    return next(e for e in ENTITIES if isinstance(e, TopicSpec) and e.name == name)


def _subscription(topic: str, name: str) -> int:
    """The MaxDeliveryCount of one subscription (the erasure one has its own)."""
    return next(s.max_delivery_count for s in _topic(topic).subscriptions if s.name == name)


def subscription_max_delivery_count() -> int:
    """The one MaxDeliveryCount of the workers' subscriptions (the workers take a single value)."""
    counts = {
        s.max_delivery_count
        for topic in (EVENTS_TOPIC, NOTIFICATIONS_TOPIC)
        for s in _topic(topic).subscriptions
        if s.name in (TOPIC_WORKER_SUBSCRIPTION, NOTIFICATIONS_SUBSCRIPTION, NOTIFIER_SUBSCRIPTION)
    }
    if len(counts) != 1:
        raise ValueError(
            "the workers' subscriptions have different MaxDeliveryCount values "
            f"{sorted(counts)}; SUBSCRIPTION_MAX_DELIVERY_COUNT takes one: make them equal"
        )
    return counts.pop()


def workers_app_settings(
    *,
    environment: str,
    storage_account_name: pulumi.Input[str],
    client_id: pulumi.Input[str],
    servicebus_namespace: pulumi.Input[str],
    entity_settings: Mapping[str, pulumi.Input[str]],
    app_insights_connection_string: pulumi.Input[str],
    staging_blob_account_url: pulumi.Input[str],
    audit_blob_account_url: pulumi.Input[str],
    audit_container_name: pulumi.Input[str],
    service_base_urls: Mapping[str, pulumi.Input[str]],
) -> dict[str, pulumi.Input[str]]:
    """Identity-based host storage and Service Bus, telemetry with Entra ID, entity names."""
    unknown = sorted(set(service_base_urls) - SERVICE_URL_SETTINGS)
    if unknown:
        raise ValueError(
            f"service_base_urls {unknown}: not a service URL the workers read; allowed: "
            + ", ".join(sorted(SERVICE_URL_SETTINGS))
        )
    entities = {
        key: entity_settings[key]
        for key in (
            "SERVICEBUS_ORDERS_QUEUE",
            "SERVICEBUS_EVENTS_TOPIC",
            "SERVICEBUS_NOTIFICATIONS_TOPIC",
            "SERVICEBUS_ETL_QUEUE",
            "SERVICEBUS_THIRDPARTY_QUEUE",
            "SERVICEBUS_AUDIT_QUEUE",
        )
    }
    settings: dict[str, pulumi.Input[str]] = {
        "ENVIRONMENT": environment,
        # https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
        "AzureWebJobsStorage__accountName": storage_account_name,
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": client_id,
        # https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger#identity-based-connections
        "ServiceBusConnection__fullyQualifiedNamespace": servicebus_namespace,
        "ServiceBusConnection__credential": "managedidentity",
        "ServiceBusConnection__clientId": client_id,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": app_insights_connection_string,
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": pulumi.Output.concat(
            "ClientId=", client_id, ";Authorization=AAD"
        ),
        **entities,
        "SERVICEBUS_EVENTS_SUBSCRIPTION": TOPIC_WORKER_SUBSCRIPTION,
        "SERVICEBUS_NOTIFY_SUBSCRIPTION": NOTIFICATIONS_SUBSCRIPTION,
        "SERVICEBUS_NOTIFIER_SUBSCRIPTION": NOTIFIER_SUBSCRIPTION,
        "SERVICEBUS_ERASURE_SUBSCRIPTION": ERASURE_SUBSCRIPTION,
        # The workers dead-letter on the last delivery: they must know the entities' limits.
        "ORDERS_QUEUE_MAX_DELIVERY_COUNT": str(_queue(ORDERS_QUEUE).max_delivery_count),
        "ETL_QUEUE_MAX_DELIVERY_COUNT": str(_queue(ETL_QUEUE).max_delivery_count),
        "THIRDPARTY_QUEUE_MAX_DELIVERY_COUNT": str(_queue(THIRDPARTY_QUEUE).max_delivery_count),
        "AUDIT_QUEUE_MAX_DELIVERY_COUNT": str(_queue(AUDIT_QUEUE).max_delivery_count),
        "ERASURE_MAX_DELIVERY_COUNT": str(_subscription(EVENTS_TOPIC, ERASURE_SUBSCRIPTION)),
        # The ETL layer's staging account, reached with the workers' identity.
        "STAGING_BLOB_ACCOUNT_URL": staging_blob_account_url,
        # The audit layer's WORM container, written with the same identity (its only writer).
        "AUDIT_BLOB_ACCOUNT_URL": audit_blob_account_url,
        "AUDIT_BLOB_CONTAINER": audit_container_name,
        "SUBSCRIPTION_MAX_DELIVERY_COUNT": str(subscription_max_delivery_count()),
        **WORKER_TUNABLES,
        **service_base_urls,
    }
    check_flex_settings(settings)
    return settings


def check_flex_settings(settings: Mapping[str, object]) -> None:
    """Refuse app settings Flex Consumption deprecates, before Azure does."""
    deprecated = sorted(set(settings) & DEPRECATED_ON_FLEX)
    if deprecated:
        raise ValueError(
            f"app settings {deprecated}: Flex Consumption deprecates them (runtime, scale and "
            "deployment go in functionAppConfig; host storage uses identity-based "
            "AzureWebJobsStorage__* settings)"
        )
