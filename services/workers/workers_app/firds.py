"""ESMA FIRDS full files (zipped ISO 20022 `auth.017` reference data reports), read as a stream.

One `RefData` element is parsed at a time (lxml iterparse on the zip member, element and
its earlier siblings cleared after use), so memory stays flat whatever the file size.
Each record is validated with the platform's identifier rules (ISIN check digit, CFI
category, ISO 4217 currency, MIC format, LEI MOD 97-10); a bad record becomes a `Reject`
with its reason, a malformed file raises `FirdsFormatError` naming what is wrong.
Entities are never resolved and no DTD or network access is allowed (the file is input
from outside). https://www.esma.europa.eu/data-reporting/mifir-reporting/reference-data
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import IO, Any, TypeVar

from lxml import etree

from platform_common.identifiers import (
    is_valid_cfi,
    is_valid_currency,
    is_valid_isin,
    is_valid_lei,
    is_valid_mic,
)

AUTH_017 = "urn:iso:std:iso:20022:tech:xsd:auth.017.001.02"
_NS = f"{{{AUTH_017}}}"
REF_DATA = f"{_NS}RefData"
REPORT = f"{_NS}FinInstrmRptgRefDataRpt"
_GENERAL = f"{_NS}FinInstrmGnlAttrbts"
_VENUE = f"{_NS}TradgVnRltdAttrbts"
_ISSUER = f"{_NS}Issr"
_ID = f"{_NS}Id"
_FULL_NAME = f"{_NS}FullNm"
_CFI = f"{_NS}ClssfctnTp"
_CURRENCY = f"{_NS}NtnlCcy"
# Cleared records kept before the next prune (each is an empty element: a few hundred bytes).
_PRUNE_EVERY = 512
_FIELDS = ("isin", "full_name", "cfi_code", "currency", "issuer_lei", "venue_mic")


T = TypeVar("T")


class FirdsFormatError(ValueError):
    """The file is not a FIRDS auth.017 report; nothing from it may be loaded."""


@dataclass(frozen=True, slots=True)
class FirdsRecord:
    """One instrument on one trading venue, as the products service stores it."""

    isin: str
    full_name: str
    cfi_code: str
    currency: str
    issuer_lei: str
    venue_mic: str


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that failed validation, with where it was and why."""

    position: int
    isin: str | None
    reason: str


# Issuers, venues, CFI codes and currencies repeat across a file's records: check each once.
_lei = lru_cache(maxsize=65536)(is_valid_lei)
_cfi = lru_cache(maxsize=4096)(is_valid_cfi)
_mic = lru_cache(maxsize=4096)(is_valid_mic)
_currency = lru_cache(maxsize=512)(is_valid_currency)
_CHECKS = (
    ("isin", is_valid_isin, "not a valid ISIN (ISO 6166 check digit)"),
    ("cfi_code", _cfi, "not a CFI code (ISO 10962: 6 letters, known category)"),
    ("currency", _currency, "not an ISO 4217 currency"),
    ("venue_mic", _mic, "not a MIC (ISO 10383: 4 letters or digits)"),
    ("issuer_lei", _lei, "not a valid LEI (ISO 17442 check digits)"),
)


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def _values(element: Any) -> tuple[str | None, ...]:
    """The fields of one RefData in _FIELDS order, read from its children (no path lookups).

    Locals and one pass over the children: this runs once per record of a million-row file.
    """
    isin = full_name = cfi = currency = lei = mic = None
    for child in element:
        tag = child.tag
        if tag == _GENERAL:
            for item in child:
                item_tag = item.tag
                if item_tag == _ID:
                    isin = item.text
                elif item_tag == _FULL_NAME:
                    full_name = item.text
                elif item_tag == _CFI:
                    cfi = item.text
                elif item_tag == _CURRENCY:
                    currency = item.text
        elif tag == _ISSUER:
            lei = child.text
        elif tag == _VENUE:
            for item in child:
                if item.tag == _ID:
                    mic = item.text
                    break
    return (
        _text(isin),
        _text(full_name),
        _text(cfi),
        _text(currency),
        _text(lei),
        _text(mic),
    )


def _record(position: int, element: Any) -> FirdsRecord | Reject:
    values = _values(element)
    isin, full_name, cfi, currency, lei, mic = values
    if (
        isin is None
        or full_name is None
        or cfi is None
        or currency is None
        or lei is None
        or mic is None
    ):
        missing = [name for name, value in zip(_FIELDS, values, strict=True) if value is None]
        return Reject(position, isin, f"missing {', '.join(missing)}")
    if (
        is_valid_isin(isin)
        and _cfi(cfi)
        and _currency(currency)
        and _mic(mic)
        and _lei(lei)
        and len(full_name) <= 350
    ):
        return FirdsRecord(isin, full_name, cfi, currency, lei, mic)
    # The slow path names every problem; only rejects take it.
    fields = dict(zip(_FIELDS, values, strict=True))
    problems = [
        f"{name} {fields[name]!r} is {message}"
        for name, valid, message in _CHECKS
        if not valid(str(fields[name]))
    ]
    if len(full_name) > 350:
        problems.append("full_name is longer than 350 characters")
    return Reject(position, isin, "; ".join(problems))


def _xml_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    members = [m for m in archive.infolist() if not m.is_dir()]
    xml = [m for m in members if m.filename.lower().endswith(".xml")]
    if len(members) != 1 or len(xml) != 1:
        names = ", ".join(m.filename for m in members) or "nothing"
        raise FirdsFormatError(f"expected one .xml file in the zip, found {names}")
    return xml[0]


def iter_xml(stream: IO[bytes]) -> Iterator[FirdsRecord | Reject]:
    """Records and rejects of one auth.017 XML stream, in file order."""
    # Only RefData end events reach Python (lxml filters by tag in C).
    parser = etree.iterparse(
        stream,
        events=("end",),
        tag=REF_DATA,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    position = 0
    try:
        for _event, element in parser:
            if position == 0:
                parent = element.getparent()
                if parent is None or parent.tag != REPORT:
                    raise FirdsFormatError(f"RefData outside FinInstrmRptgRefDataRpt ({AUTH_017})")
            position += 1
            yield _record(position, element)
            # Free the record; every _PRUNE_EVERY records, drop the cleared ones before it
            # in one slice (one call instead of a sibling walk per record).
            element.clear(keep_tail=False)
            if position % _PRUNE_EVERY == 0:
                parent = element.getparent()
                del parent[: parent.index(element)]
    except etree.XMLSyntaxError as exc:
        raise FirdsFormatError(f"not well-formed XML: {exc}") from exc
    if position == 0:
        raise FirdsFormatError(f"no RefData records in namespace {AUTH_017}")


def iter_firds(path: Path) -> Iterator[FirdsRecord | Reject]:
    """Records and rejects of a zipped FIRDS file."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FirdsFormatError(f"{path.name} is not a zip file: {exc}") from exc
    with archive, archive.open(_xml_member(archive)) as stream:
        yield from iter_xml(stream)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
