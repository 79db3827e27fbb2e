"""Write services/<svc>/openapi.json (OpenAPI 3.0.3) for API Management; `--check` fails when stale.

FastAPI emits OpenAPI 3.1, which API Management imports only with limitations: numeric
`exclusiveMinimum` (from `gt=0`) is rejected, for one
(https://github.com/MicrosoftDocs/azure-docs/issues/119506). The export therefore rewrites
the 3.1-only JSON Schema forms into their 3.0 equivalents.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from _services import SERVICE_NAMES, SERVICES_DIR, add_service_paths

OPENAPI_VERSION = "3.0.3"
# Objects whose keys are user-chosen names rather than schema keywords.
MAPPING_KEYS = frozenset({"properties", "schemas", "paths", "responses", "content"})


def _downgrade_schema(node: dict[str, Any]) -> dict[str, Any]:
    """Rewrite one JSON Schema object (children first) into OpenAPI 3.0 form."""
    out = {
        key: _downgrade_mapping(value) if key in MAPPING_KEYS else downgrade(value)
        for key, value in node.items()
    }
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out[plain] = out[bound]
            out[bound] = True
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for combiner in ("anyOf", "oneOf"):
        variants = out.get(combiner)
        if isinstance(variants, list) and {"type": "null"} in variants:
            rest = [v for v in variants if v != {"type": "null"}]
            out["nullable"] = True
            if len(rest) == 1 and "$ref" in rest[0]:
                del out[combiner]
                out["allOf"] = rest  # $ref siblings are ignored in 3.0; allOf keeps nullable
            elif len(rest) == 1:
                del out[combiner]
                out = {**rest[0], **out}
            else:
                out[combiner] = rest
    return out


def _downgrade_mapping(value: Any) -> Any:
    """`properties`-like maps: keys are names (maybe `const`), values are schemas."""
    if isinstance(value, dict):
        return {key: downgrade(child) for key, child in value.items()}
    return downgrade(value)


def downgrade(value: Any) -> Any:
    """Walk the document; every dict is treated as a possible schema object."""
    if isinstance(value, dict):
        return _downgrade_schema(value)
    if isinstance(value, list):
        return [downgrade(v) for v in value]
    return value


def openapi_document(name: str) -> dict[str, Any]:
    add_service_paths()
    module = importlib.import_module(f"{name}_service.main")
    document = downgrade(module.create_app().openapi())
    assert isinstance(document, dict)
    document["openapi"] = OPENAPI_VERSION
    return document


def render(name: str) -> str:
    return json.dumps(openapi_document(name), indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="fail if any openapi.json is out of date"
    )
    args = parser.parse_args()
    stale = []
    for name in SERVICE_NAMES:
        target = SERVICES_DIR / name / "openapi.json"
        text = render(name)
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target))
            continue
        target.write_text(text)
        print(f"wrote {target}")
    if stale:
        print(
            f"out of date (run services/tools/export_openapi.py): {', '.join(stale)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
