"""Order request/response models."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from platform_common.types import PriceIn, PriceOut, QuantityIn, QuantityOut, UtcTimestamp


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    NEW = "NEW"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


Isin = Annotated[str, Field(pattern=r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$", examples=["US0378331005"])]
Quantity = QuantityIn
Price = PriceIn


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    isin: Isin
    side: Side
    order_type: OrderType
    quantity: Quantity
    limit_price: Price | None = None

    @model_validator(mode="after")
    def _price_matches_type(self) -> Self:
        """Limit orders need a price; market orders must not carry one."""
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("limit_price is required for limit orders")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise ValueError("limit_price is not allowed for market orders")
        return self


class OrderAmend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Quantity | None = None
    limit_price: Price | None = None

    @model_validator(mode="after")
    def _something_to_amend(self) -> Self:
        if self.quantity is None and self.limit_price is None:
            raise ValueError("give quantity and/or limit_price")
        return self


class OrderReject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


class FillCreate(BaseModel):
    """An execution reported by the (simulated) venue; venue_fill_id makes retries safe."""

    model_config = ConfigDict(extra="forbid")

    venue_fill_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
    quantity: Quantity
    price: Price


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    isin: str
    side: Side
    order_type: OrderType
    quantity: QuantityOut
    limit_price: PriceOut | None
    currency: str
    filled_quantity: QuantityOut
    average_fill_price: PriceOut | None
    status: OrderStatus
    reject_reason: str | None
    version: int
    created_at: UtcTimestamp
    updated_at: UtcTimestamp


class OrderPage(BaseModel):
    items: list[OrderOut]
    total: int
    limit: int
    offset: int


class FillOut(BaseModel):
    """One execution; payments sums these to verify a settlement's terms."""

    model_config = ConfigDict(from_attributes=True)

    venue_fill_id: str
    quantity: QuantityOut
    price: PriceOut
    executed_at: UtcTimestamp


class FillPage(BaseModel):
    order_id: str
    items: list[FillOut]
