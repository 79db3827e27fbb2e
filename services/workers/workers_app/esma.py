"""ESMA's FIRDS file register: list a day's files (solr) and download one as a stream.

The register is the solr core behind https://registers.esma.europa.eu/publication/
(`/solr/esma_registers_firds_files/select`), queried by publication date and file type:
`q=*&fq=publication_date:[<day>T00:00:00Z TO <day>T23:59:59Z]&fq=file_type:FULINS&wt=json`.
Each document names the file (`file_name`) and its `download_link`.
https://www.esma.europa.eu/data-reporting/mifir-reporting/reference-data
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

SOLR_PATH = "/solr/esma_registers_firds_files/select"
# FULINS_<CFI letter>_<YYYYMMDD>_<nn>of<mm>.zip (full files), DLTINS_... (deltas).
FILE_NAME = re.compile(r"^(FULINS_[A-Z]|DLTINS|FULCAN)_\d{8}_\d{2}of\d{2}\.zip$")


class EsmaError(Exception):
    """The register or a download failed in a way a later try may not (or may) fix."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class FirdsFile:
    name: str
    url: str
    file_type: str
    published: str


def list_files(
    client: httpx.Client, day: date, file_types: tuple[str, ...], page: int = 100
) -> list[FirdsFile]:
    """The register's files of one publication day, of the given types, by name."""
    found: list[FirdsFile] = []
    start = 0
    types = " OR ".join(file_types)
    while True:
        params: dict[str, str | list[str]] = {
            "q": "*",
            "fq": [
                f"publication_date:[{day.isoformat()}T00:00:00Z TO {day.isoformat()}T23:59:59Z]",
                f"file_type:({types})",
            ],
            "wt": "json",
            "start": str(start),
            "rows": str(page),
        }
        body = _json(client, SOLR_PATH, params)
        response = body.get("response") if isinstance(body, dict) else None
        if not isinstance(response, dict) or not isinstance(response.get("docs"), list):
            raise EsmaError("the FIRDS register's answer has no response.docs", transient=False)
        for doc in response["docs"]:
            name, url = doc.get("file_name"), doc.get("download_link")
            if not isinstance(name, str) or not isinstance(url, str):
                raise EsmaError(
                    f"register entry without file_name/download_link: {doc}", transient=False
                )
            if not FILE_NAME.match(name):
                raise EsmaError(f"unexpected FIRDS file name {name!r}", transient=False)
            found.append(
                FirdsFile(name, url, str(doc.get("file_type")), str(doc.get("publication_date")))
            )
        start += len(response["docs"])
        if not response["docs"] or start >= int(response.get("numFound", 0)):
            return sorted(found, key=lambda f: f.name)


def download(client: httpx.Client, file: FirdsFile, target: Path, max_bytes: int) -> Path:
    """Stream the file to `target`; refuses one larger than `max_bytes`."""
    written = 0
    try:
        with client.stream("GET", file.url) as response:
            if response.status_code != 200:
                raise EsmaError(
                    f"GET {file.url} -> {response.status_code}",
                    transient=response.status_code in (408, 429) or response.status_code >= 500,
                )
            with target.open("wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    written += len(chunk)
                    if written > max_bytes:
                        raise EsmaError(
                            f"{file.name} is larger than {max_bytes} bytes", transient=False
                        )
                    out.write(chunk)
    except httpx.TransportError as exc:
        raise EsmaError(f"GET {file.url}: {type(exc).__name__}: {exc}", transient=True) from exc
    return target


def _json(client: httpx.Client, url: str, params: dict[str, str | list[str]]) -> object:
    try:
        response = client.get(url, params=params)
    except httpx.TransportError as exc:
        raise EsmaError(f"FIRDS register: {type(exc).__name__}: {exc}", transient=True) from exc
    if response.status_code != 200:
        raise EsmaError(
            f"FIRDS register -> {response.status_code}",
            transient=response.status_code in (408, 429) or response.status_code >= 500,
        )
    try:
        return response.json()
    except ValueError as exc:
        raise EsmaError(f"FIRDS register sent no JSON: {exc}", transient=False) from exc
