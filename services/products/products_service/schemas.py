"""Request/response models; identifiers are validated with their check digits."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue

from platform_common.identifiers import (
    is_valid_cfi,
    is_valid_currency,
    is_valid_isin,
    is_valid_lei,
    is_valid_mic,
)
from platform_common.text import NoControlCharacters
from platform_common.types import PriceIn, PriceOut, UtcTimestamp


def _check(predicate_name: str, predicate: Callable[[str], bool]) -> AfterValidator:
    """Pydantic validator turning a check-digit predicate into a clear 422 message."""

    def validate(value: str) -> str:
        if not predicate(value):
            raise ValueError(f"not a valid {predicate_name}")
        return value

    return AfterValidator(validate)


Isin = Annotated[
    str,
    Field(min_length=12, max_length=12, examples=["US0378331005"], description="ISO 6166 ISIN"),
    _check("ISIN (ISO 6166 check digit)", is_valid_isin),
]
Lei = Annotated[
    str,
    Field(
        min_length=20, max_length=20, examples=["HWUPKR0MPOU8FGXBT394"], description="ISO 17442 LEI"
    ),
    _check("LEI (ISO 17442 mod-97 check)", is_valid_lei),
]
Cfi = Annotated[
    str,
    Field(min_length=6, max_length=6, examples=["ESVUFR"]),
    _check("CFI code (ISO 10962)", is_valid_cfi),
]
Currency = Annotated[
    str,
    Field(min_length=3, max_length=3, examples=["USD"]),
    _check("ISO 4217 currency", is_valid_currency),
]
Mic = Annotated[
    str, Field(min_length=4, max_length=4, examples=["XNAS"]), _check("ISO 10383 MIC", is_valid_mic)
]
Price = PriceIn


class InstrumentStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class InstrumentFields(BaseModel):
    """Fields an admin sets; the ISIN is the identity and never changes."""

    model_config = ConfigDict(extra="forbid")

    full_name: Annotated[str, Field(min_length=1, max_length=350), NoControlCharacters]
    cfi_code: Cfi
    issuer_lei: Lei
    currency: Currency
    venue_mic: Mic
    tick_size: Price
    reference_price: Price | None = None
    status: InstrumentStatus = InstrumentStatus.ACTIVE


class InstrumentCreate(InstrumentFields):
    isin: Isin


class InstrumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    isin: str
    full_name: str
    cfi_code: str
    cfi_category: str
    issuer_lei: str
    currency: str
    venue_mic: str
    tick_size: PriceOut
    reference_price: PriceOut | None
    status: InstrumentStatus
    version: int
    updated_at: UtcTimestamp


class InstrumentPage(BaseModel):
    items: list[InstrumentOut]
    total: int
    limit: int
    offset: int


Figi = Annotated[
    str,
    Field(
        pattern=r"^[B-DF-HJ-NP-TV-Z0-9]{2}G[B-DF-HJ-NP-TV-Z0-9]{8}[0-9]$",
        examples=["BBG000B9XRY4"],
        description="OMG FIGI (12 characters, third character G)",
    ),
]
ShortText = Annotated[str, Field(min_length=1, max_length=64), NoControlCharacters]
Code32 = Annotated[str, Field(min_length=1, max_length=32), NoControlCharacters]


class EnrichmentFields(BaseModel):
    """What the third-party sync learned; a field it could not learn is null."""

    model_config = ConfigDict(extra="forbid")

    figi: Figi | None = None
    composite_figi: Figi | None = None
    share_class_figi: Figi | None = None
    ticker: ShortText | None = None
    exch_code: Annotated[str, Field(min_length=1, max_length=16), NoControlCharacters] | None = None
    security_type: ShortText | None = None
    market_sector: Code32 | None = None
    issuer_legal_name: (
        Annotated[str, Field(min_length=1, max_length=500), NoControlCharacters] | None
    ) = None
    issuer_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    issuer_lei_status: Annotated[str, Field(pattern=r"^[A-Z_]{1,32}$")] | None = None
    issuer_entity_status: Annotated[str, Field(pattern=r"^[A-Z_]{1,32}$")] | None = None


class EnrichmentOut(EnrichmentFields):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    isin: str
    version: int
    updated_at: UtcTimestamp


class InstrumentLoad(BaseModel):
    """One instrument's reference fields as a FIRDS load carries them (no trading fields)."""

    model_config = ConfigDict(extra="forbid")

    isin: Isin
    full_name: Annotated[str, Field(min_length=1, max_length=350), NoControlCharacters]
    cfi_code: Cfi
    issuer_lei: Lei
    currency: Currency
    venue_mic: Mic


class InstrumentBatch(BaseModel):
    """A batch load; each item is validated on its own so one bad record rejects only itself."""

    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[dict[str, JsonValue]], Field(min_length=1)]


class BatchReject(BaseModel):
    index: int
    """Position of the item in the batch (from 0)."""
    isin: str | None
    reason: str


class BatchResult(BaseModel):
    """What one batch did; re-sending the same batch answers created=updated=0."""

    received: int
    created: int
    updated: int
    unchanged: int
    rejected: list[BatchReject]
