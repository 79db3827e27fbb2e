"""The long-lived clients one worker process shares across invocations (built on first use)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import httpx

from platform_common.local_bus import LocalFileBus
from platform_common.messaging import EntityKind, InMemoryBus, MessageBus, ServiceBusBus
from platform_common.settings import MessagingSettings
from workers_app.audit_store import AuditBlobStore
from workers_app.calls import service_client
from workers_app.deadletters import DeadLetterReplayer, ServiceBusReplayer
from workers_app.etl import InstrumentStore, SqliteInstrumentStore
from workers_app.etl_day import EtlJob
from workers_app.events_worker import EventsWorker
from workers_app.notifications_worker import NotificationsWorker
from workers_app.orders_worker import OrderWorker, RiskLimits
from workers_app.privacy import PrivacyWorker
from workers_app.products_load import ProductsInstrumentStore
from workers_app.settings import WorkersSettings, get_settings
from workers_app.staging import AzureBlobStore, BlobStore, InMemoryBlobStore
from workers_app.thirdparty import (
    OPENFIGI_KEY_HEADER,
    Provider,
    RateLimiter,
    RetryPolicy,
    SyncWorker,
)


@dataclass(frozen=True)
class Runtime:
    settings: WorkersSettings
    bus: MessageBus
    orders: httpx.Client
    products: httpx.Client
    payments: httpx.Client
    users: httpx.Client
    sync: SyncWorker
    """The third-party sync: its providers' rate limiters are shared by all invocations."""
    esma: httpx.Client
    blobs: BlobStore
    audit: AuditBlobStore | None
    """The immutable audit store; None only locally when no Azurite is configured."""
    privacy: PrivacyWorker
    """Admin clients for the erasure and retention routes (admin plus WORKERS_CALLER_ID)."""

    def order_worker(self) -> OrderWorker:
        return OrderWorker(
            orders=self.orders,
            products=self.products,
            bus=self.bus,
            events_topic=self.settings.servicebus_events_topic,
            limits=RiskLimits(self.settings.risk_price_collar_percent),
        )

    def events_worker(self) -> EventsWorker:
        return EventsWorker(
            payments=self.payments,
            bus=self.bus,
            notifications_topic=self.settings.servicebus_notifications_topic,
        )

    def privacy_worker(self) -> PrivacyWorker:
        return self.privacy

    def notifications_worker(self) -> NotificationsWorker:
        return NotificationsWorker(users=self.users)

    def etl_job(self) -> EtlJob:
        settings = self.settings

        def sqlite_store() -> InstrumentStore:
            return SqliteInstrumentStore(settings.etl_sqlite_path)

        def products_store() -> InstrumentStore:
            # products-api's load route takes admin plus the WORKERS_CALLER_ID it is set with.
            client = service_client(
                settings.products_api_base_url,
                settings.workers_caller_id,
                ("admin",),
                settings.http_timeout_seconds,
            )
            return ProductsInstrumentStore(client, max_attempts=settings.etl_load_max_attempts)

        to_products = settings.etl_store == "products-api"
        return EtlJob(
            esma=self.esma,
            blobs=self.blobs,
            store=products_store if to_products else sqlite_store,
            staging_container=settings.staging_container,
            archive_container=settings.archive_container,
            file_types=tuple(settings.esma_file_types.split(",")),
            max_file_bytes=settings.etl_max_file_bytes,
            batch_size=settings.etl_load_batch_size if to_products else settings.etl_batch_size,
        )

    def replayer(self) -> DeadLetterReplayer | None:
        """Dead letters live in Service Bus only; None on the local bus."""
        if not self.settings.servicebus_namespace:
            return None
        return ServiceBusReplayer(
            _servicebus_client(
                self.settings.servicebus_namespace, self.settings.servicebus_client_id
            ),
            frozenset(
                {
                    self.settings.servicebus_orders_queue,
                    self.settings.servicebus_etl_queue,
                    self.settings.servicebus_thirdparty_queue,
                    # Records are keyed by their body's id, so a replayed copy (new message
                    # id) lands on the same blob or completes as a redelivery.
                    self.settings.servicebus_audit_queue,
                }
            ),
        )


@lru_cache
def _servicebus_client(namespace: str, client_id: str | None) -> object:
    from azure.identity import DefaultAzureCredential
    from azure.servicebus import ServiceBusClient

    credential = DefaultAzureCredential(managed_identity_client_id=client_id)
    return ServiceBusClient(fully_qualified_namespace=namespace, credential=credential)


def build_blobs(settings: WorkersSettings) -> BlobStore:
    """The staging account with the workers' identity, Azurite locally, else memory."""
    if settings.staging_blob_account_url:
        return AzureBlobStore.with_identity(
            settings.staging_blob_account_url, settings.storage_client_id
        )
    if settings.staging_blob_connection_string:
        return AzureBlobStore.from_connection_string(
            settings.staging_blob_connection_string.get_secret_value()
        )
    return InMemoryBlobStore()


def build_audit_store(settings: WorkersSettings) -> AuditBlobStore | None:
    """The audit account with the workers' identity, Azurite locally, else none (records wait)."""
    if settings.audit_blob_account_url:
        return AuditBlobStore.with_identity(
            settings.audit_blob_account_url,
            settings.audit_blob_container,
            settings.storage_client_id,
        )
    if settings.audit_blob_connection_string:
        return AuditBlobStore.from_connection_string(
            settings.audit_blob_connection_string.get_secret_value(),
            settings.audit_blob_container,
        )
    return None


def build_bus(settings: WorkersSettings) -> MessageBus:
    """Service Bus through the workers' identity, or locally the shared file or in-memory bus."""
    mode = settings.messaging_mode or ("servicebus" if settings.servicebus_namespace else "memory")
    if mode == "local-file":
        assert settings.local_bus_path  # the settings refuse local-file without it
        return LocalFileBus(Path(settings.local_bus_path))
    if mode == "memory":
        return InMemoryBus()
    entities: dict[str, EntityKind] = {
        settings.servicebus_events_topic: "topic",
        settings.servicebus_notifications_topic: "topic",
        settings.servicebus_etl_queue: "queue",
    }
    # ServiceBusBus reads only these two fields; the services' SQL settings do not apply here.
    messaging = MessagingSettings.model_construct(
        servicebus_fully_qualified_namespace=settings.servicebus_namespace,
        azure_client_id=settings.servicebus_client_id,
    )
    return ServiceBusBus(messaging, entities)


def build_sync_worker(settings: WorkersSettings, products: httpx.Client) -> SyncWorker:
    """OpenFIGI and GLEIF clients with their published limits (settings) and retry policy."""
    retry = RetryPolicy(
        attempts=settings.thirdparty_retry_attempts,
        initial_wait=settings.thirdparty_retry_initial_seconds,
        max_wait=settings.thirdparty_retry_max_seconds,
        max_retry_after=settings.thirdparty_max_retry_after_seconds,
    )
    timeout = httpx.Timeout(settings.thirdparty_timeout_seconds)
    key = settings.openfigi_api_key
    openfigi = Provider(
        name="openfigi",
        client=httpx.Client(
            base_url=settings.openfigi_base_url,
            timeout=timeout,
            headers={OPENFIGI_KEY_HEADER: key.get_secret_value()} if key else {},
        ),
        limiter=RateLimiter(
            settings.openfigi_rate_limit_requests,
            settings.openfigi_keyed_rate_limit_period_seconds
            if key
            else settings.openfigi_rate_limit_period_seconds,
        ),
        retry=retry,
    )
    gleif = Provider(
        name="gleif",
        client=httpx.Client(
            base_url=settings.gleif_base_url,
            timeout=timeout,
            headers={"Accept": "application/vnd.api+json"},
        ),
        limiter=RateLimiter(
            settings.gleif_rate_limit_requests, settings.gleif_rate_limit_period_seconds
        ),
        retry=retry,
    )
    return SyncWorker(products=products, openfigi=openfigi, gleif=gleif)


def build_runtime(settings: WorkersSettings) -> Runtime:
    timeout = settings.http_timeout_seconds
    caller = settings.workers_caller_id
    return Runtime(
        settings=settings,
        bus=build_bus(settings),
        # Accepting needs admin and rejecting risk_manager in orders' permission table.
        orders=service_client(
            settings.orders_api_base_url, caller, ("admin", "risk_manager"), timeout
        ),
        products=service_client(settings.products_api_base_url, caller, (), timeout),
        # Creating a settlement is the back office's (risk_manager) in payments' table.
        payments=service_client(settings.payments_api_base_url, caller, ("risk_manager",), timeout),
        # users-api also pins notifications.record to this caller id.
        users=service_client(settings.users_api_base_url, caller, ("admin",), timeout),
        # Writing an instrument's enrichment is admin in products' table.
        sync=build_sync_worker(
            settings,
            service_client(settings.products_api_base_url, caller, ("admin",), timeout),
        ),
        # Downloads follow the register's links to ESMA's file host.
        esma=httpx.Client(
            base_url=settings.esma_register_base_url,
            timeout=settings.esma_timeout_seconds,
            follow_redirects=True,
        ),
        blobs=build_blobs(settings),
        audit=build_audit_store(settings),
        privacy=PrivacyWorker(
            **{
                name: service_client(
                    getattr(settings, f"{name}_api_base_url"), caller, ("admin",), timeout
                )
                for name in ("orders", "payments", "users", "products")
            }
        ),
    )


@lru_cache
def get_runtime() -> Runtime:
    return build_runtime(get_settings())
