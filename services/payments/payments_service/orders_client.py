"""Orders-api lookups that settlements are verified against: httpx with timeout and retry."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Protocol

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from payments_service.settings import PaymentsSettings, get_settings
from platform_common.correlation import outgoing_headers
from platform_common.errors import ProblemError
from platform_common.identity import CALLER_ID_HEADER, CALLER_ROLES_HEADER, Caller

UNAVAILABLE = "Orders API unavailable"


class OrderView(BaseModel):
    """The slice of orders-api's order that settlement terms are checked against."""

    id: str
    user_id: str
    isin: str
    side: str
    status: str
    currency: str
    filled_quantity: Decimal
    average_fill_price: Decimal | None


class FillView(BaseModel):
    venue_fill_id: str
    quantity: Decimal
    price: Decimal


class FillPageView(BaseModel):
    order_id: str
    items: list[FillView]


@dataclass(frozen=True)
class FilledOrder:
    """An order as orders-api knows it, with every execution."""

    order: OrderView
    fills: tuple[FillView, ...]


class OrdersLookup(Protocol):
    def get(self, order_id: str, caller: Caller) -> FilledOrder | None:
        """None when orders-api does not know the order; ProblemError(503) when it cannot say."""
        ...


class _RetryableStatusError(Exception):
    """orders-api answered 5xx: worth another attempt."""

    def __init__(self, status: int) -> None:
        super().__init__(f"orders-api answered {status}")


class HttpOrdersClient:
    """One keep-alive client per app; the caller's identity is forwarded, never widened.

    Payments asks as the caller (risk manager or admin, who may read any order), so
    orders-api applies its own permission table and payments holds no identity of its own.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float,
        attempts: int,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )
        self._attempts = attempts

    def get(self, order_id: str, caller: Caller) -> FilledOrder | None:
        # UTF-8 bytes: httpx would encode a str header as ASCII and fail on other ids.
        headers = {
            CALLER_ID_HEADER.encode(): caller.caller_id.encode(),
            CALLER_ROLES_HEADER.encode(): ",".join(sorted(r.value for r in caller.roles)).encode(),
            # The request's id, so orders-api's log lines join this settlement's.
            **{k.encode(): v.encode() for k, v in outgoing_headers().items()},
        }
        order = self._get_json(f"/v1/orders/{order_id}", headers)
        if order is None:
            return None
        fills = self._get_json(f"/v1/orders/{order_id}/fills", headers)
        if fills is None:
            raise ProblemError(503, UNAVAILABLE, f"Order {order_id} vanished between lookups.")
        try:
            return FilledOrder(
                OrderView.model_validate_json(order),
                tuple(FillPageView.model_validate_json(fills).items),
            )
        except ValidationError as exc:
            raise ProblemError(
                503, UNAVAILABLE, f"orders-api sent an order payments cannot read: {exc}"
            ) from exc

    def _get_json(self, path: str, headers: dict[bytes, bytes]) -> bytes | None:
        """The body of a 200, None for a 404; retries transport errors and 5xx, then 503."""
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.1, max=1.0),
            retry=retry_if_exception_type((httpx.TransportError, _RetryableStatusError)),
            reraise=True,
        )
        try:
            response = retrying(self._once, path, headers)
        except (httpx.HTTPError, _RetryableStatusError) as exc:
            raise ProblemError(
                503,
                UNAVAILABLE,
                f"Cannot verify the order with orders-api ({exc}); retry later.",
                headers={"Retry-After": "5"},
            ) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProblemError(
                503, UNAVAILABLE, f"orders-api answered {response.status_code} for {path}."
            )
        return response.content

    def _once(self, path: str, headers: dict[bytes, bytes]) -> httpx.Response:
        response = self._client.get(path, headers=headers)
        if response.status_code >= 500:
            raise _RetryableStatusError(response.status_code)
        return response

    def close(self) -> None:
        self._client.close()


def get_orders(
    request: Request, settings: Annotated[PaymentsSettings, Depends(get_settings)]
) -> OrdersLookup:
    """One HTTP client per app; tests point it at a fake or a real orders app."""
    client = getattr(request.app.state, "orders_client", None)
    if client is None:
        client = HttpOrdersClient(
            settings.orders_api_base_url,
            settings.orders_api_timeout_seconds,
            settings.orders_api_attempts,
        )
        request.app.state.orders_client = client
    assert isinstance(client, HttpOrdersClient)
    return client
