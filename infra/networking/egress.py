"""Prod's egress allow-list: each host the workloads reach through the firewall, and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# Microsoft Learn pages the rows below come from.
CONTAINER_APPS_FIREWALL = (
    "https://learn.microsoft.com/azure/container-apps/use-azure-firewall#application-rules"
)
FLEX_NETWORKING = "https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan"
FUNCTIONS_STORAGE = (
    "https://learn.microsoft.com/azure/azure-functions/functions-networking-options"
    "#restrict-your-storage-account-to-a-virtual-network"
)
ACR_FIREWALL = (
    "https://learn.microsoft.com/azure/container-registry/container-registry-firewall-access-rules"
)
MONITOR_ENDPOINTS = (
    "https://learn.microsoft.com/azure/azure-monitor/fundamentals/azure-monitor-network-access"
)


class Purpose(StrEnum):
    """One application rule per purpose, so the firewall's logs say why a host was allowed."""

    CONTAINER_PLATFORM = "container-platform"
    REGISTRY = "container-registry"
    IDENTITY = "entra-id"
    KEY_VAULT = "key-vault"
    MONITOR = "azure-monitor"
    FUNCTIONS_STORAGE = "functions-storage"
    THIRD_PARTY = "third-party-apis"


class Consumer(StrEnum):
    """What in the platform calls out."""

    CONTAINER_APPS = "container-apps"
    FUNCTIONS = "functions-flex"


BOTH = frozenset(Consumer)


@dataclass(frozen=True)
class EgressHost:
    """One FQDN (or `*.` wildcard) allowed out over HTTPS, who needs it, and where that is said."""

    fqdn: str
    purpose: Purpose
    consumers: frozenset[Consumer]
    source: str
    note: str = ""


EGRESS_HOSTS: tuple[EgressHost, ...] = (
    # Container Apps (and Flex Consumption, which runs on the same platform) pull their system
    # images from MCR and the underlying cluster's Kubernetes and CNI binaries from these.
    EgressHost("mcr.microsoft.com", Purpose.CONTAINER_PLATFORM, BOTH, CONTAINER_APPS_FIREWALL),
    EgressHost(
        "*.data.mcr.microsoft.com", Purpose.CONTAINER_PLATFORM, BOTH, CONTAINER_APPS_FIREWALL
    ),
    EgressHost("packages.aks.azure.com", Purpose.CONTAINER_PLATFORM, BOTH, CONTAINER_APPS_FIREWALL),
    EgressHost(
        "acs-mirror.azureedge.net", Purpose.CONTAINER_PLATFORM, BOTH, CONTAINER_APPS_FIREWALL
    ),
    # Image pulls from the platform's registry: login server and data endpoints, and the
    # blob storage that serves layers when dedicated data endpoints are off.
    EgressHost(
        "*.azurecr.io",
        Purpose.REGISTRY,
        frozenset({Consumer.CONTAINER_APPS}),
        ACR_FIREWALL,
        note="<registry>.azurecr.io and <registry>.<region>.data.azurecr.io",
    ),
    EgressHost(
        "*.blob.core.windows.net",
        Purpose.REGISTRY,
        BOTH,
        CONTAINER_APPS_FIREWALL,
        note="ACR layer storage; Flex Consumption's deployment container",
    ),
    # Managed identity tokens (ACR pulls, Key Vault, SQL, Service Bus, App Insights).
    EgressHost("*.identity.azure.net", Purpose.IDENTITY, BOTH, CONTAINER_APPS_FIREWALL),
    EgressHost("login.microsoftonline.com", Purpose.IDENTITY, BOTH, CONTAINER_APPS_FIREWALL),
    EgressHost("*.login.microsoftonline.com", Purpose.IDENTITY, BOTH, CONTAINER_APPS_FIREWALL),
    EgressHost("login.microsoft.com", Purpose.IDENTITY, BOTH, CONTAINER_APPS_FIREWALL),
    EgressHost("*.login.microsoft.com", Purpose.IDENTITY, BOTH, CONTAINER_APPS_FIREWALL),
    # Learn lists the vault's own address; the vault is made by a later layer (security), so
    # the rule names the service domain. In prod the vault's private endpoint keeps this
    # traffic off the firewall: the rule matters only if that endpoint is ever removed.
    EgressHost(
        "*.vault.azure.net",
        Purpose.KEY_VAULT,
        BOTH,
        CONTAINER_APPS_FIREWALL,
        note="Key Vault references and secret reads",
    ),
    # Application Insights ingestion (regional endpoints in the connection string) and
    # Live Metrics, both Entra-authenticated.
    EgressHost("*.in.applicationinsights.azure.com", Purpose.MONITOR, BOTH, MONITOR_ENDPOINTS),
    EgressHost("*.livediagnostics.monitor.azure.com", Purpose.MONITOR, BOTH, MONITOR_ENDPOINTS),
    # Flex Consumption keeps the host's state in storage queues and tables (the host account
    # is identity-based: AzureWebJobsStorage__accountName).
    EgressHost(
        "*.queue.core.windows.net",
        Purpose.FUNCTIONS_STORAGE,
        frozenset({Consumer.FUNCTIONS}),
        FUNCTIONS_STORAGE,
    ),
    EgressHost(
        "*.table.core.windows.net",
        Purpose.FUNCTIONS_STORAGE,
        frozenset({Consumer.FUNCTIONS}),
        FLEX_NETWORKING,
    ),
    # The third-party APIs the workers call (seed 001): ESMA's FIRDS register lists the
    # reference-data files and firds.esma.europa.eu serves them; OpenFIGI maps identifiers;
    # GLEIF serves LEI records.
    EgressHost(
        "registers.esma.europa.eu",
        Purpose.THIRD_PARTY,
        frozenset({Consumer.FUNCTIONS}),
        "https://registers.esma.europa.eu/publication/searchRegister?core=esma_registers_firds_files",
    ),
    EgressHost(
        "firds.esma.europa.eu",
        Purpose.THIRD_PARTY,
        frozenset({Consumer.FUNCTIONS}),
        "https://www.esma.europa.eu/sites/default/files/library/esma65-11-1193_firds_reference_data_downloadable_files.pdf",
    ),
    EgressHost(
        "api.openfigi.com",
        Purpose.THIRD_PARTY,
        frozenset({Consumer.FUNCTIONS}),
        "https://www.openfigi.com/api/documentation",
    ),
    EgressHost(
        "api.gleif.org",
        Purpose.THIRD_PARTY,
        frozenset({Consumer.FUNCTIONS}),
        "https://www.gleif.org/en/lei-data/gleif-api",
    ),
)


def fqdns_by_purpose(extra: Iterable[str] = ()) -> dict[Purpose, list[str]]:
    """The table grouped into application rules; a stack's extra hosts join the third parties."""
    grouped: dict[Purpose, list[str]] = {}
    for host in EGRESS_HOSTS:
        grouped.setdefault(host.purpose, []).append(host.fqdn)
    for fqdn in extra:
        third_party = grouped.setdefault(Purpose.THIRD_PARTY, [])
        if fqdn not in third_party:
            third_party.append(fqdn)
    return grouped
