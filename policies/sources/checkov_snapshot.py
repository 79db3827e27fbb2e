"""Writes checkov-azure.json: every Azure check of the installed Checkov, by id.

Run it with a throwaway virtualenv, never the project's (Checkov pins half of PyPI):

    python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov==3.2.334
    /tmp/checkov-venv/bin/python policies/sources/checkov_snapshot.py

It reads the ARM and Terraform resource registries and the Terraform graph checks (JSON/YAML
definitions shipped in the package), which is where Checkov keeps its Azure check ids.
"""

from __future__ import annotations

import importlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent / "checkov-azure.json"


def _resource_checks(checks: dict[str, list[Any]], found: dict[str, dict[str, Any]]) -> None:
    for resource, registered in checks.items():
        if not (resource.startswith(("azurerm_", "Microsoft.")) or "/" in resource):
            continue
        for check in registered:
            entry = found.setdefault(check.id, {"name": check.name, "resources": []})
            if resource not in entry["resources"]:
                entry["resources"].append(resource)


def _graph_types(node: Any) -> set[str]:
    if isinstance(node, dict):
        types: set[str] = set()
        for key, value in node.items():
            if key == "resource_types":
                types |= set(value if isinstance(value, list) else [value])
            else:
                types |= _graph_types(value)
        return types
    if isinstance(node, list):
        return {t for item in node for t in _graph_types(item)}
    return set()


def main() -> None:
    yaml: Any = importlib.import_module("yaml")
    arm: Any = importlib.import_module("checkov.arm.registry")
    terraform: Any = importlib.import_module("checkov.terraform.checks.resource.registry")
    importlib.import_module("checkov.arm.checks.resource")
    azure: Any = importlib.import_module("checkov.terraform.checks.resource.azure")
    found: dict[str, dict[str, Any]] = {}
    _resource_checks(arm.arm_resource_registry.checks, found)
    _resource_checks(
        {k: v for k, v in terraform.resource_registry.checks.items() if k.startswith("azurerm_")},
        found,
    )
    graph_dir = Path(azure.__file__).resolve().parent.parent.parent / "graph_checks" / "azure"
    for path in sorted(graph_dir.iterdir()):
        if path.suffix == ".json":
            data = json.loads(path.read_text())
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text())
        else:
            continue
        meta = data["metadata"]
        entry = found.setdefault(meta["id"], {"name": meta["name"], "resources": []})
        for resource in sorted(_graph_types(data.get("definition"))):
            if resource not in entry["resources"]:
                entry["resources"].append(resource)
    snapshot = {
        "source": "checkov (PyPI), ARM + Terraform resource registries and graph checks",
        "version": metadata.version("checkov"),
        "checks": {
            check_id: {"name": entry["name"].strip(), "resources": sorted(entry["resources"])}
            for check_id, entry in sorted(found.items(), key=lambda kv: _key(kv[0]))
        },
    }
    OUTPUT.write_text(json.dumps(snapshot, indent=1) + "\n")


def _key(check_id: str) -> tuple[str, int]:
    prefix, _, number = check_id.rpartition("_")
    return prefix, int(number) if number.isdigit() else 0


if __name__ == "__main__":
    main()
