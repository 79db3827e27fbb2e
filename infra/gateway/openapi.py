"""What API Management publishes of each service: its OpenAPI document minus internal routes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from config.images import ServiceName

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
# Routes for the platform only: the gateway's own authenticate call and the probes.
INTERNAL_PREFIXES = ("/internal/", "/health/")
INTERNAL_PATHS = frozenset({"/internal", "/health"})
# Marked by the services on operations or path items that callers must not see.
INTERNAL_EXTENSION = "x-internal"
# Headers the gateway sets from the users-api verdict; a caller never sends them.
CALLER_HEADERS = ("X-Caller-Id", "X-Caller-Roles")
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def is_internal(path: str, item: dict[str, Any], operation: dict[str, Any] | None = None) -> bool:
    """A route API Management must not publish: by its path, or marked `x-internal: true`."""
    if path in INTERNAL_PATHS or path.startswith(INTERNAL_PREFIXES):
        return True
    if item.get(INTERNAL_EXTENSION) is True:
        return True
    return operation is not None and operation.get(INTERNAL_EXTENSION) is True


def published_document(document: dict[str, Any]) -> dict[str, Any]:
    """The document with internal paths and operations removed, and the caller headers the
    gateway sets dropped from each operation's parameters. The input is not changed."""
    out = copy.deepcopy(document)
    paths: dict[str, Any] = {}
    for path, item in (out.get("paths") or {}).items():
        if is_internal(path, item):
            continue
        kept = {
            key: value
            for key, value in item.items()
            if key not in HTTP_METHODS or not is_internal(path, item, value)
        }
        if not HTTP_METHODS & kept.keys():
            continue
        for key in HTTP_METHODS & kept.keys():
            operation = kept[key]
            parameters = [
                p
                for p in operation.get("parameters") or []
                if not (
                    p.get("in") == "header"
                    and str(p.get("name", "")).lower() in {h.lower() for h in CALLER_HEADERS}
                )
            ]
            if "parameters" in operation:
                operation["parameters"] = parameters
        paths[path] = kept
    if not paths:
        raise ValueError(
            f"{document.get('info', {}).get('title', 'the document')}: every operation is "
            "internal; API Management would publish an empty API"
        )
    out["paths"] = paths
    return out


def operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in a document."""
    return sorted(
        (method.upper(), path)
        for path, item in (document.get("paths") or {}).items()
        for method in item
        if method in HTTP_METHODS
    )


def query_parameters(document: dict[str, Any], method: str = "get") -> list[str]:
    """Names of the query parameters of a document's `method` operations (sorted)."""
    names = {
        str(p["name"])
        for item in (document.get("paths") or {}).values()
        for p in (item.get(method) or {}).get("parameters") or []
        if p.get("in") == "query"
    }
    return sorted(names)


def load_document(service: ServiceName, services_dir: Path = SERVICES_DIR) -> dict[str, Any]:
    """The service's generated services/<service>/openapi.json."""
    path = services_dir / service / "openapi.json"
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: run `make -C services generate` to write each service's "
            "OpenAPI document"
        ) from None
    return document
