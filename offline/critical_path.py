"""First-deploy critical path: the longest chain of creates through the dependency graph.

The engine creates a resource once everything it depends on exists (its inputs' resources,
`depends_on`, and a custom parent, whose URN the child waits for), and runs independent
creates in parallel. So a first `pulumi up` takes about as long as the slowest chain,
weighted with each type's typical create time (offline/create_times.py).

python -m offline.critical_path prod
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from offline.create_times import create_time
from offline.engine import ProgramRun, RecordedResource

# What a first deploy of prod must stay under (issue 17).
PROD_LIMIT_MINUTES = 20.0


@dataclass(frozen=True)
class Step:
    """One resource on the path, with when it would start and finish (minutes from start)."""

    urn: str
    name: str
    type: str
    minutes: float
    start: float
    finish: float
    basis: str


@dataclass(frozen=True)
class CriticalPath:
    stack: str
    steps: tuple[Step, ...]

    @property
    def minutes(self) -> float:
        return round(self.steps[-1].finish, 2) if self.steps else 0.0

    def dominant(self, count: int = 3) -> list[Step]:
        return sorted(self.steps, key=lambda s: -s.minutes)[:count]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "minutes": self.minutes,
            "steps": [asdict(s) for s in self.steps],
        }


def dependency_graph(run: ProgramRun) -> dict[str, set[str]]:
    """Custom resource URN -> the custom resources that must exist before it is created."""
    resources = run.resources
    children: dict[str, list[str]] = {}
    for resource in resources.values():
        if resource.parent:
            children.setdefault(resource.parent, []).append(resource.urn)

    def customs(urn: str) -> set[str]:
        """A component stands for every custom resource below it."""
        node = resources.get(urn)
        if node is None:
            return set()
        if node.custom:
            return {urn}
        found: set[str] = set()
        for child in children.get(urn, []):
            found |= customs(child)
        return found

    graph: dict[str, set[str]] = {}
    for resource in resources.values():
        if not resource.custom:
            continue
        before: set[str] = set()
        for dependency in resource.dependencies:
            before |= customs(dependency)
        parent = resources.get(resource.parent or "")
        if parent is not None and parent.custom:
            before.add(parent.urn)
        before.discard(resource.urn)
        graph[resource.urn] = before
    return graph


def _minutes(resource: RecordedResource) -> tuple[float, str]:
    sku = resource.inputs.get("sku")
    sku_name = str(sku.get("name")) if isinstance(sku, dict) and "name" in sku else None
    found = create_time(resource.kind, sku_name)
    return found.minutes, found.basis


def critical_path(run: ProgramRun) -> CriticalPath:
    """The longest weighted chain of a first deploy of the run's stack."""
    graph = dependency_graph(run)
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    weight: dict[str, tuple[float, str]] = {urn: _minutes(run.resources[urn]) for urn in graph}

    def visit(urn: str, trail: tuple[str, ...]) -> float:
        if urn in finish:
            return finish[urn]
        if urn in trail:
            raise ValueError("dependency cycle: " + " -> ".join((*trail, urn)))
        best, best_urn = 0.0, None
        for before in sorted(graph[urn]):
            done = visit(before, (*trail, urn))
            if done > best:
                best, best_urn = done, before
        finish[urn] = best + weight[urn][0]
        via[urn] = best_urn
        return finish[urn]

    for urn in sorted(graph):
        visit(urn, ())
    if not finish:
        return CriticalPath(run.stack, ())
    last = max(sorted(finish), key=lambda u: finish[u])
    chain: list[str] = []
    current: str | None = last
    while current is not None:
        chain.append(current)
        current = via[current]
    steps = []
    for urn in reversed(chain):
        resource = run.resources[urn]
        minutes, basis = weight[urn]
        steps.append(
            Step(
                urn=urn,
                name=resource.name,
                type=resource.type,
                minutes=minutes,
                start=round(finish[urn] - minutes, 2),
                finish=round(finish[urn], 2),
                basis=basis,
            )
        )
    return CriticalPath(run.stack, tuple(steps))


def render_text(path: CriticalPath) -> str:
    lines = [
        f"First-deploy critical path ({path.stack}): {path.minutes:g} minutes, "
        f"{len(path.steps)} creates in a chain (typical times: offline/create_times.py)"
    ]
    for step in path.steps:
        lines.append(
            f"  {step.start:>6.2f} -> {step.finish:>6.2f} min  {step.name}  "
            f"({step.type.split(':')[-1]}, {step.minutes:g} min)"
        )
    return "\n".join(lines)


def render_markdown(path: CriticalPath) -> str:
    lines = [
        f"**{path.minutes:g} minutes** for a first deploy, along this chain:",
        "",
        "| start | finish | resource | type | minutes |",
        "|---:|---:|---|---|---:|",
    ]
    lines += [
        f"| {s.start:g} | {s.finish:g} | {s.name} | `{s.type}` | {s.minutes:g} |"
        for s in path.steps
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from offline.engine import run_program

    parser = argparse.ArgumentParser(prog="python -m offline.critical_path", description=__doc__)
    parser.add_argument("stack", help="stack name: dev, qa, staging or prod")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    args = parser.parse_args(argv)
    run = run_program(args.stack)
    if run.error:
        print(f"ERROR: the program stopped: {run.error}", file=sys.stderr)
        return 1
    path = critical_path(run)
    print(json.dumps(path.to_dict(), indent=2) if args.json else render_text(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
