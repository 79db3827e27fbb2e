"""Decimal and timestamp field types shared by every service's schemas.

Output decimals are fixed-point strings with their column's scale (never `1E-8`);
input decimals accept only what the column holds, so nothing is rounded on the way
in. Timestamps carry an offset (RFC 3339), whatever the backend returned.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from platform_common.columns import WIDE, fixed_point, quantize_exact

# Column shapes: (precision, scale). Input and output types below derive from these.
QUANTITY = (18, 6)
PRICE = (18, 8)
# quantity x price at full scale: 12 + 10 integer digits, 6 + 8 decimals, so no rounding.
AMOUNT = (36, 14)


def decimal_serializer(precision: int, scale: int) -> PlainSerializer:
    """Fixed-point text at the column's scale; a value that would round is a bug (raises)."""
    return PlainSerializer(
        lambda d: fixed_point(quantize_exact(d, precision, scale), scale), return_type=str
    )


def decimal_schema(precision: int, scale: int) -> WithJsonSchema:
    """The response schema states the fixed-point shape, so conformance checks see it."""
    pattern = rf"^-?[0-9]{{1,{precision - scale}}}\.[0-9]{{{scale}}}$"
    return WithJsonSchema({"type": "string", "pattern": pattern, "examples": ["1." + "0" * scale]})


def _decimal_text(precision: int, scale: int) -> Any:
    """Accept decimal strings of the column's shape and integers; refuse JSON floats.

    json.loads has already turned a JSON number with a fraction into a binary float by
    the time pydantic sees it, so 17+ significant digits would change silently.
    """
    shape = re.compile(rf"[0-9]{{1,{precision - scale}}}(\.[0-9]{{1,{scale}}})?")

    def check(value: object) -> object:
        if isinstance(value, (bool, float)):
            raise ValueError('send decimals as JSON strings (e.g. "190.25"), not numbers')
        if isinstance(value, str) and not shape.fullmatch(value):
            raise ValueError(
                f"must be a positive decimal string with at most {precision - scale} digits "
                f"before the point and {scale} after it"
            )
        return value

    return BeforeValidator(check)


def decimal_in_schema(precision: int, scale: int) -> WithJsonSchema:
    """The request schema says exactly what the validator takes, so fuzzers can tell."""
    whole = precision - scale
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{scale}}})?$"},
                {"type": "integer", "minimum": 1, "maximum": 10**whole - 1},
            ],
            "examples": ["1." + "0" * scale],
        }
    )


def decimal_in(precision: int, scale: int) -> Any:
    """A positive DECIMAL(precision, scale) input: refused, never rounded, if it won't fit."""
    return Field(gt=0, max_digits=precision, decimal_places=scale)


QuantityOut = Annotated[Decimal, decimal_serializer(*QUANTITY), decimal_schema(*QUANTITY)]
PriceOut = Annotated[Decimal, decimal_serializer(*PRICE), decimal_schema(*PRICE)]
AmountOut = Annotated[Decimal, decimal_serializer(*AMOUNT), decimal_schema(*AMOUNT)]


def amount_of(quantity: Decimal, price: Decimal) -> Decimal:
    """quantity x price without the default context's 28-digit rounding."""
    return WIDE.multiply(quantity, price)


QuantityIn = Annotated[
    Decimal, _decimal_text(*QUANTITY), decimal_in(*QUANTITY), decimal_in_schema(*QUANTITY)
]
PriceIn = Annotated[Decimal, _decimal_text(*PRICE), decimal_in(*PRICE), decimal_in_schema(*PRICE)]


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Responses refuse naive datetimes (a 500 in tests, not a silent missing offset).
UtcTimestamp = Annotated[AwareDatetime, AfterValidator(_as_utc)]
