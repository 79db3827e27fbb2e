"""Settlement request/response models."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from platform_common.identifiers import is_valid_currency, is_valid_isin
from platform_common.types import (
    AmountOut,
    PriceIn,
    PriceOut,
    QuantityIn,
    QuantityOut,
    UtcTimestamp,
)


class SettlementStatus(StrEnum):
    PENDING = "PENDING"
    SETTLED = "SETTLED"
    FAILED = "FAILED"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


def _isin(value: str) -> str:
    if not is_valid_isin(value):
        raise ValueError("not a valid ISIN (ISO 6166 check digit)")
    return value


def _currency(value: str) -> str:
    if not is_valid_currency(value):
        raise ValueError("not an ISO 4217 currency")
    return value


class SettlementCreate(BaseModel):
    """Terms of a filled order, as carried by its OrderFilled event."""

    model_config = ConfigDict(extra="forbid")

    order_id: Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]
    user_id: Annotated[str, Field(min_length=1, max_length=128)]
    isin: Annotated[str, Field(pattern=r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$"), AfterValidator(_isin)]
    side: Side
    quantity: QuantityIn
    price: PriceIn
    currency: Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_currency)]


class SettlementFail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


class SettlementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    user_id: str
    isin: str
    side: Side
    quantity: QuantityOut
    price: PriceOut
    currency: str
    amount: AmountOut
    status: SettlementStatus
    failure_reason: str | None
    version: int
    created_at: UtcTimestamp
    updated_at: UtcTimestamp


class SettlementPage(BaseModel):
    items: list[SettlementOut]
    total: int
    limit: int
    offset: int
