"""Column types that keep money, quantities and instants exact on SQLite and Azure SQL.

SQLite has no decimal type: SQLAlchemy's Numeric stores a REAL there, so 16+
significant digits change on the way back, and its result processor quantizes in
the default 28-digit context (decimal.InvalidOperation beyond that). SQLite also
drops the offset of a DateTime(timezone=True) and returns naive values. Azure SQL
has DECIMAL(p,s) and DATETIMEOFFSET, which these types use unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# DECIMAL's maximum precision in SQL Server is 38; arithmetic on values this wide must
# not be rounded by the 28-digit default context.
# https://learn.microsoft.com/sql/t-sql/data-types/decimal-and-numeric-transact-sql
WIDE = Context(prec=80)


def quantize_exact(value: Decimal, precision: int, scale: int) -> Decimal:
    """`value` at exactly `scale` places; ValueError if that would round or overflow."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    try:
        quantized = value.quantize(Decimal(1).scaleb(-scale), context=WIDE)
    except InvalidOperation as exc:
        raise ValueError(f"{value} does not fit DECIMAL({precision},{scale})") from exc
    if quantized != value:
        raise ValueError(f"{value} has more than {scale} decimal places")
    if len(quantized.as_tuple().digits) > precision:
        raise ValueError(f"{value} has more than {precision} significant digits")
    return quantized


def fixed_point(value: Decimal, scale: int) -> str:
    """Fixed-point text with exactly `scale` places, never exponent notation (1E-8)."""
    return format(value.quantize(Decimal(1).scaleb(-scale), context=WIDE), "f")


class ExactDecimal(TypeDecorator[Decimal]):
    """DECIMAL(p,s) on Azure SQL; canonical fixed-point text on SQLite (TEXT affinity).

    Values that do not fit the column are refused, never rounded. SQLite compares the
    text, not the number, so no query may order or filter by these columns there.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            # sign, point and digits: the longest canonical text for DECIMAL(p,s)
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = quantize_exact(Decimal(value), self.precision, self.scale)
        return fixed_point(exact, self.scale) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value))

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC instants on every backend (DATETIMEOFFSET on Azure SQL).

    SQLite stores the UTC wall time and returns it naive; it is read back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} for a UTC column")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime
