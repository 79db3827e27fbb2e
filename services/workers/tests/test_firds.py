"""FIRDS stream parsing, validation and idempotent loading, on real-format fixture files."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from workers_app.etl import SqliteInstrumentStore, run_file
from workers_app.firds import FirdsFormatError, FirdsRecord, Reject, iter_firds

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAY = "FULINS_E_20261130_01of01"


def _zip(tmp_path: Path, source: str, name: str | None = None) -> Path:
    """ESMA publishes each file as a zip holding one XML document."""
    path = tmp_path / f"{name or Path(source).stem}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURES / source, arcname=Path(source).name)
    return path


def test_records_and_rejects_in_file_order(tmp_path: Path) -> None:
    items = list(iter_firds(_zip(tmp_path, f"{DAY}.xml")))

    records = [i for i in items if isinstance(i, FirdsRecord)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [(r.isin, r.venue_mic) for r in records] == [
        ("DE0007236101", "XETR"),
        ("DE0007236101", "XGAT"),
        ("US0378331005", "XFRA"),
    ]
    assert records[0] == FirdsRecord(
        "DE0007236101",
        "Siemens AG Namens-Aktien o.N.",
        "ESVUFR",
        "EUR",
        "W38RGI023J3WT1HWRP32",
        "XETR",
    )
    assert [r.position for r in rejects] == [4, 5, 6]
    assert "ISO 6166 check digit" in rejects[0].reason
    assert "'QQQQQQ' is not a CFI code" in rejects[1].reason
    assert "'EUX' is not an ISO 4217 currency" in rejects[1].reason
    assert "'xetr' is not a MIC" in rejects[1].reason
    assert rejects[2].reason == "missing issuer_lei"


def test_load_then_rerun_changes_nothing(tmp_path: Path) -> None:
    store = SqliteInstrumentStore(tmp_path / "products.db")
    path = _zip(tmp_path, f"{DAY}.xml")

    first = run_file(path, store, batch_size=2)
    again = run_file(path, store, batch_size=2)

    assert (first.status, first.records, first.valid, first.rejected) == ("loaded", 6, 3, 3)
    assert first.written == 2  # the second venue of DE0007236101 does not replace the first
    assert again.written == 0
    assert store.count() == 2
    db = sqlite3.connect(tmp_path / "products.db")
    assert db.execute("SELECT venue_mic FROM instruments WHERE isin='DE0007236101'").fetchone() == (
        "XETR",
    )
    runs = db.execute("SELECT status, records, written, rejected FROM etl_runs").fetchall()
    assert runs == [("loaded", 6, 2, 3), ("loaded", 6, 0, 3)]
    reasons = db.execute("SELECT position, reason FROM etl_rejects WHERE run_id = 1").fetchall()
    assert [p for p, _ in reasons] == [4, 5, 6]


def test_a_malformed_file_is_rejected_and_nothing_is_written(tmp_path: Path) -> None:
    store = SqliteInstrumentStore(tmp_path / "products.db")
    cases = {
        "FULINS_E_20261130_truncated.xml": "not well-formed XML",
        "not_firds.xml": "no RefData records",
    }
    for source, message in cases.items():
        report = run_file(_zip(tmp_path, source), store)
        assert report.status == "rejected"
        assert report.error is not None
        assert message in report.error
    assert store.count() == 0  # the truncated file's two good records were not loaded

    not_zip = tmp_path / "plain.zip"
    not_zip.write_bytes((FIXTURES / f"{DAY}.xml").read_bytes())
    assert "not a zip file" in str(run_file(not_zip, store).error)

    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.xml", "<a/>")
        archive.writestr("b.xml", "<b/>")
    with pytest.raises(FirdsFormatError, match=r"expected one \.xml file in the zip"):
        list(iter_firds(two))


def test_entities_are_never_expanded(tmp_path: Path) -> None:
    items = list(iter_firds(_zip(tmp_path, "entity_bomb.xml")))

    assert len(items) == 1
    assert isinstance(items[0], Reject)
    assert items[0].reason.startswith("missing full_name")


def test_pruning_parsed_records_loses_none_and_keeps_the_tree_small() -> None:
    """More records than one prune interval: every record comes out, in order, and the
    document never holds more than one interval of (cleared) records."""
    from io import BytesIO
    from types import GeneratorType

    from platform_common.identifiers import isin_check_digit
    from workers_app.firds import _PRUNE_EVERY, AUTH_017, iter_xml

    count = 2 * _PRUNE_EVERY + 7
    isins = [f"DE{n:09d}" + str(isin_check_digit(f"DE{n:09d}")) for n in range(count)]
    records = "".join(
        f"<RefData><FinInstrmGnlAttrbts><Id>{isin}</Id><FullNm>N {isin}</FullNm>"
        "<ClssfctnTp>ESVUFR</ClssfctnTp><NtnlCcy>EUR</NtnlCcy></FinInstrmGnlAttrbts>"
        "<Issr>W38RGI023J3WT1HWRP32</Issr><TradgVnRltdAttrbts><Id>XETR</Id>"
        "</TradgVnRltdAttrbts></RefData>"
        for isin in isins
    )
    document = (
        f'<Document xmlns="{AUTH_017}"><FinInstrmRptgRefDataRpt>{records}'
        "</FinInstrmRptgRefDataRpt></Document>"
    ).encode()
    seen: list[str] = []
    largest = 0
    for item in iter_xml(BytesIO(document)):
        assert isinstance(item, FirdsRecord)
        seen.append(item.isin)
    assert seen == isins
    # The generator prunes after yielding: look at the live tree through its frame.
    parsed = iter_xml(BytesIO(document))
    assert isinstance(parsed, GeneratorType)
    for _ in parsed:
        frame = parsed.gi_frame
        if frame is not None and "element" in frame.f_locals:
            largest = max(largest, len(frame.f_locals["element"].getparent()))
    # One interval, plus what the parser has read ahead of the record being handled.
    assert 0 < largest < 2 * _PRUNE_EVERY
