"""Users settings, cached once per process and injected with Depends."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import NoDecode

from platform_common.settings import EventsPublisherSettings

# OWASP Password Storage Cheat Sheet, Argon2id: "a minimum configuration of 19 MiB of
# memory, an iteration count of 2, and 1 degree of parallelism", or an equally strong pair
# from its list (m=47104 t=1 ... m=7168 t=5, p=1): memory x iterations >= 7168 x 5 KiB.
# https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
OWASP_MIN_MEMORY_KIB = 7168
OWASP_MIN_MEMORY_X_TIME = 7168 * 5
LOOPBACK_CIDRS: tuple[IPv4Network | IPv6Network, ...] = (
    ip_network("127.0.0.1/32"),
    ip_network("::1/128"),
)

Network = IPv4Network | IPv6Network


def _networks(raw: object) -> object:
    """Comma-separated CIDRs from the environment; each must be a network address."""
    if raw is None or raw == "":
        return None
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        return raw
    networks: list[Network] = []
    for item in items:
        text = str(item).strip()
        try:
            networks.append(ip_network(text, strict=True))
        except ValueError as exc:
            raise ValueError(
                f"{text!r} is not a CIDR network address (e.g. 10.0.4.0/24 or 127.0.0.1/32): {exc}"
            ) from exc
    return tuple(networks)


class UsersSettings(EventsPublisherSettings):
    """Settings read by the users service (database, identity, telemetry, credentials)."""

    workers_caller_id: str = Field(
        "svc-workers",
        min_length=1,
        max_length=128,
        description=(
            "Caller id of the Functions workers; the only caller that may record notifications."
        ),
    )
    authenticate_allowed_cidrs: Annotated[
        tuple[Network, ...] | None, NoDecode, BeforeValidator(_networks)
    ] = Field(
        None,
        description=(
            "Comma-separated CIDRs that may call POST /internal/v1/authenticate (the API "
            "Management subnet in Azure); unset = loopback only (127.0.0.1/32, ::1/128)."
        ),
        json_schema_extra={"required_in_azure": True},
    )
    authenticate_client_address: Literal["peer", "forwarded-for"] | None = Field(
        None,
        description=(
            "Where the caller's address comes from: peer (the TCP peer) or forwarded-for (the "
            "right-most X-Forwarded-For entry, the one Container Apps ingress appends); unset = "
            "peer when ENVIRONMENT=local, forwarded-for elsewhere."
        ),
    )
    password_hash_time_cost: int = Field(
        2,
        ge=1,
        le=10,
        description="Argon2id iterations (OWASP: 2 with 19 MiB); hashes made with others are "
        "rehashed at the next successful sign-in.",
    )
    password_hash_memory_kib: int = Field(
        19456,
        ge=OWASP_MIN_MEMORY_KIB,
        le=1_048_576,
        description="Argon2id memory in KiB (OWASP minimum 19456 with 2 iterations).",
    )
    password_hash_parallelism: int = Field(1, ge=1, le=8, description="Argon2id lanes (OWASP: 1).")
    personal_data_retention_days: int = Field(
        365,
        ge=1,
        le=3650,
        description=(
            "Days notifications and published outbox rows are kept; the workers' daily purge "
            "deletes older ones (GDPR Art. 5(1)(e): no longer than necessary)."
        ),
    )

    @property
    def allowed_authenticate_networks(self) -> tuple[Network, ...]:
        return self.authenticate_allowed_cidrs or LOOPBACK_CIDRS

    @property
    def client_address_source(self) -> Literal["peer", "forwarded-for"]:
        if self.authenticate_client_address is not None:
            return self.authenticate_client_address
        return "peer" if self.environment == "local" else "forwarded-for"

    @model_validator(mode="after")
    def _owasp_strength(self) -> Self:
        """Fewer iterations need more memory: refuse pairs weaker than OWASP's list."""
        product = self.password_hash_memory_kib * self.password_hash_time_cost
        if product < OWASP_MIN_MEMORY_X_TIME:
            raise ValueError(
                f"PASSWORD_HASH_MEMORY_KIB x PASSWORD_HASH_TIME_COST = {product} is weaker than "
                f"OWASP's Argon2id minimum ({OWASP_MIN_MEMORY_X_TIME}, e.g. 19456 KiB x 2)"
            )
        return self


@lru_cache
def get_settings() -> UsersSettings:
    return UsersSettings()
