"""What every settings model shares: the environments, regions, field checks, base model."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Environment = Literal["dev", "qa", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "qa", "staging", "prod")

# Config namespace: the `name` in Pulumi.yaml. Stack files set `platform:<key>`.
CONFIG_NAMESPACE = "platform"

# Azure regions this platform may deploy to, with the short code used in resource names.
AZURE_REGIONS: dict[str, str] = {
    "westus2": "wus2",
    "westus3": "wus3",
    "westus": "wus",
    "eastus": "eus",
    "eastus2": "eus2",
    "centralus": "cus",
    "northcentralus": "ncus",
    "southcentralus": "scus",
    "westcentralus": "wcus",
    "canadacentral": "cac",
    "canadaeast": "cae",
    "westeurope": "weu",
    "northeurope": "neu",
    "uksouth": "uks",
    "ukwest": "ukw",
    "francecentral": "frc",
    "germanywestcentral": "gwc",
    "swedencentral": "sdc",
    "switzerlandnorth": "szn",
    "norwayeast": "nwe",
    "italynorth": "itn",
    "polandcentral": "plc",
}


class SettingsError(ValueError):
    """Raised when a stack's configuration is invalid; the message is meant for the user."""


def _check_region(value: str) -> str:
    if value not in AZURE_REGIONS:
        raise ValueError(f"unknown Azure region; allowed: {', '.join(sorted(AZURE_REGIONS))}")
    return value


def _check_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"not a valid IPv4 network in CIDR notation ({exc}); expected e.g. 10.0.0.0/16"
        ) from exc
    return str(network)


def _check_public_cidr(value: str) -> str:
    cidr = _check_cidr(value)
    prefix = ipaddress.IPv4Network(cidr).prefixlen
    if prefix < 8:
        raise ValueError("allowed IP range is wider than /8; list the caller ranges explicitly")
    if prefix == 31:
        # Storage and Cosmos firewalls take /30 or wider, or a single address.
        raise ValueError("a /31 is not accepted by Azure service firewalls; use two /32s or a /30")
    return cidr


AzureRegion = Annotated[str, AfterValidator(_check_region)]
Cidr = Annotated[str, AfterValidator(_check_cidr)]
AllowedIpRange = Annotated[str, AfterValidator(_check_public_cidr)]


def _check_email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", value):
        raise ValueError("not an e-mail address; expected e.g. platform-team@example.com")
    return value


Email = Annotated[str, AfterValidator(_check_email)]
DomainName = Annotated[
    str,
    Field(
        min_length=4,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]
Guid = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")]


class _Model(BaseModel):
    """Frozen, strict-keyed, camelCase in stack files and snake_case in code."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
    )
