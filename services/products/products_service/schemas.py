"""Request/response models; identifiers are validated with their check digits."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, model_validator

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


class EtlOutcome(StrEnum):
    LOADED = "loaded"
    """Every batch landed (a rerun of the same file lands with written 0)."""
    REJECTED = "rejected"
    """The file is malformed: nothing of it was written."""
    FAILED = "failed"
    """A batch could not be loaded after its retries; the batches that landed are counted."""
    SKIPPED = "skipped"
    """The file was already archived as loaded: not fetched or loaded again."""


REJECTS_KEPT = 1000
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]


class EtlRejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: Annotated[int, Field(ge=0, le=1_000_000_000, description="Record number in the file")]
    isin: Annotated[str, Field(max_length=64), NoControlCharacters] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=1000), NoControlCharacters]


class EtlRunIn(BaseModel):
    """What a run did, reported once by the workers when the run ends."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[
        str,
        Field(
            pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            description="The run's UUID (lower case), chosen by the workers",
        ),
    ]
    file_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]
    file_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    outcome: EtlOutcome
    records: Count
    valid: Count
    written: Count
    rejected: Count
    batches: Count
    error: Annotated[str, Field(min_length=1, max_length=2000), NoControlCharacters] | None = None
    duration_ms: Count
    started_at: UtcTimestamp
    finished_at: UtcTimestamp
    rejects: Annotated[list[EtlRejectIn], Field(max_length=REJECTS_KEPT)] = []

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Counts that cannot describe a real run are refused with what is wrong."""
        problems: list[str] = []
        if self.finished_at < self.started_at:
            problems.append("finished_at is before started_at")
        if self.written > self.valid:
            problems.append(f"written {self.written} exceeds valid {self.valid}")
        if self.valid + self.rejected > self.records:
            problems.append(
                f"valid {self.valid} + rejected {self.rejected} exceeds records {self.records}"
            )
        if len(self.rejects) > self.rejected:
            problems.append(f"{len(self.rejects)} rejects listed but rejected is {self.rejected}")
        if self.outcome in (EtlOutcome.REJECTED, EtlOutcome.FAILED) and self.error is None:
            problems.append(f"a {self.outcome.value} run needs its error")
        if self.outcome is EtlOutcome.LOADED and self.error is not None:
            problems.append("a loaded run has no error")
        if self.outcome is EtlOutcome.REJECTED and (self.written or self.batches):
            problems.append("a rejected run wrote nothing (written and batches must be 0)")
        if self.outcome is EtlOutcome.SKIPPED and (self.records or self.written or self.batches):
            problems.append("a skipped run read nothing (records, written and batches must be 0)")
        if self.outcome is not EtlOutcome.SKIPPED and self.file_sha256 is None:
            problems.append(f"a {self.outcome.value} run needs file_sha256")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class EtlRejectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    isin: str | None
    reason: str


class EtlRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    file_name: str
    file_sha256: str | None
    outcome: EtlOutcome
    records: int
    valid: int
    written: int
    rejected: int
    batches: int
    error: str | None
    duration_ms: int
    started_at: UtcTimestamp
    finished_at: UtcTimestamp
    recorded_by: str
    recorded_at: UtcTimestamp


class EtlRunDetail(EtlRunOut):
    rejects: list[EtlRejectOut]
    """The first rejects with their reasons (`rejected` counts them all)."""


class EtlRunPage(BaseModel):
    items: list[EtlRunOut]
    total: int
    limit: int
    offset: int
