"""Benchmark (not a test): generate a FIRDS-sized file, then parse and load it into SQLite.

    python services/workers/bench/firds_bench.py --records 1000000

Generation is not timed. Each load runs in a fresh process so its peak RSS (ru_maxrss)
is the load's own; it prints rows per second end to end (zip read, parse, validate,
SQLite upsert, commit), rows per CPU-second (what the load itself costs, whatever else
shares the cores), the 1-minute load average before and after, and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

WORKERS_DIR = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(WORKERS_DIR), str(WORKERS_DIR.parent / "shared")]

from platform_common.identifiers import isin_check_digit  # noqa: E402

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<BizData xmlns="urn:iso:std:iso:20022:tech:xsd:head.003.001.01">'
    "<Hdr/><Pyld>"
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:auth.017.001.02">'
    "<FinInstrmRptgRefDataRpt><RptHdr><RptgNtty><NtlCmptntAuthrty>EU</NtlCmptntAuthrty>"
    "</RptgNtty></RptHdr>\n"
)
TAIL = "</FinInstrmRptgRefDataRpt></Document></Pyld></BizData>\n"
RECORD = (
    "<RefData><FinInstrmGnlAttrbts><Id>{isin}</Id><FullNm>Benchmark Instrument {n} AG "
    "Namens-Aktien</FullNm><ShrtNm>BENCH {n}</ShrtNm><ClssfctnTp>ESVUFR</ClssfctnTp>"
    "<NtnlCcy>EUR</NtnlCcy><CmmdtyDerivInd>false</CmmdtyDerivInd></FinInstrmGnlAttrbts>"
    "<Issr>W38RGI023J3WT1HWRP32</Issr><TradgVnRltdAttrbts><Id>XETR</Id>"
    "<IssrReq>false</IssrReq><FrstTradDt>2020-01-02T00:00:00Z</FrstTradDt>"
    "</TradgVnRltdAttrbts><TechAttrbts><RlvntCmptntAuthrty>DE</RlvntCmptntAuthrty>"
    "<PblctnPrd><FrDt>2020-01-02</FrDt></PblctnPrd><RlvntTradgVn>XETR</RlvntTradgVn>"
    "</TechAttrbts></RefData>\n"
)


def generate(path: Path, records: int) -> None:
    """A zipped auth.017 file of `records` distinct, valid instruments (streamed, not held)."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("FULINS_E_BENCH_01of01.xml", "w", force_zip64=True) as member,
    ):
        member.write(HEAD.encode())
        chunk: list[str] = []
        for n in range(records):
            body = f"DE{n:09d}"
            chunk.append(RECORD.format(isin=f"{body}{isin_check_digit(body)}", n=n))
            if len(chunk) == 10_000:
                member.write("".join(chunk).encode())
                chunk.clear()
        member.write(("".join(chunk) + TAIL).encode())


def load(path: Path, db: Path) -> dict[str, float | list[float]]:
    from workers_app.etl import SqliteInstrumentStore, run_file

    store = SqliteInstrumentStore(db)
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    report = run_file(path, store)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    store.close()
    return {
        "records": report.records,
        "written": report.written,
        "rejected": report.rejected,
        "seconds": round(seconds, 2),
        "rows_per_second": round(report.records / seconds),
        "rows_per_cpu_second": round(report.records / cpu),
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--load", nargs=2, metavar=("ZIP", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(load(Path(args.load[0]), Path(args.load[1]))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for records in args.records:
            zipped = Path(tmp) / f"firds-{records}.zip"
            generate(zipped, records)
            db = Path(tmp) / f"products-{records}.db"
            for attempt in ("first load", "re-run"):
                out = subprocess.run(
                    [sys.executable, __file__, "--load", str(zipped), str(db)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                figures = json.loads(out.stdout)
                print(f"{records:>9} records, {attempt}: {figures}", flush=True)
            zipped.unlink()
            db.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
