"""Instrument lookups behind an interface: HTTP to products-api, fakes in tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Protocol

import httpx
from fastapi import Depends, Request

from orders_service.settings import OrdersSettings, get_settings
from platform_common.errors import ProblemError


@dataclass(frozen=True)
class InstrumentRef:
    """The slice of reference data order validation needs."""

    isin: str
    active: bool
    currency: str
    tick_size: Decimal
    reference_price: Decimal | None


class InstrumentCatalog(Protocol):
    def get(self, isin: str) -> InstrumentRef | None:
        """None when unknown; raises ProblemError(503) when the catalog cannot answer."""
        ...

    def is_ready(self) -> bool:
        """Whether the catalog answers at all (readiness: orders cannot be created without it)."""
        ...


class HttpInstrumentCatalog:
    """products-api client; a keep-alive pool per app, shared by request threads."""

    def __init__(
        self, base_url: str, timeout: float, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    def get(self, isin: str) -> InstrumentRef | None:
        try:
            response = self._client.get(f"/v1/instruments/{isin}")
        except httpx.HTTPError as exc:
            raise ProblemError(503, "Instrument catalog unavailable", str(exc)) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProblemError(
                503,
                "Instrument catalog unavailable",
                f"products-api answered {response.status_code}",
            )
        data = response.json()
        reference = data.get("reference_price")
        return InstrumentRef(
            isin=data["isin"],
            active=data["status"] == "active",
            currency=data["currency"],
            tick_size=Decimal(str(data["tick_size"])),
            reference_price=Decimal(str(reference)) if reference is not None else None,
        )

    def is_ready(self) -> bool:
        """products-api's liveness, not its readiness: one hop, so probes do not chain."""
        try:
            return self._client.get("/health/live").status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._client.close()


def get_catalog(
    request: Request, settings: Annotated[OrdersSettings, Depends(get_settings)]
) -> InstrumentCatalog:
    """One HTTP catalog per app; tests replace this dependency with a fake."""
    catalog = getattr(request.app.state, "catalog", None)
    if catalog is None:
        catalog = HttpInstrumentCatalog(
            settings.products_api_base_url, settings.products_api_timeout_seconds
        )
        request.app.state.catalog = catalog
    assert isinstance(catalog, HttpInstrumentCatalog)
    return catalog


def products_api_probe(
    catalog: Annotated[InstrumentCatalog, Depends(get_catalog)],
) -> Callable[[], bool]:
    """Readiness probe for products-api, resolved through (overridable) `get_catalog`."""
    return catalog.is_ready
