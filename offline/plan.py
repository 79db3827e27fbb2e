"""Offline plan: what a stack would create, with no Azure account, CLI or credentials.

python -m offline.plan dev                     # tree, counts, settings, outputs, cost, path
python -m offline.plan prod --format json      # the same, for machines (--json is an alias)
python -m offline.plan prod --format markdown  # the CI job summary
python -m offline.plan staging --diff prod     # what differs between two stacks
python -m offline.plan prod --base origin/main # changes against main's snapshot (WORM hazards)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from config.settings import SettingsError, StackSettings, load_stack_settings
from offline.engine import ProgramRun, RecordedResource, run_program
from offline.hazards import as_rows, check, check_changes, planned_entries
from policies.offline import PolicyReport, evaluate, from_recorded

MASK = "[secret]"
FORMATS = ("text", "json", "markdown")
# `summarize(base=COMMITTED)`: compare with the committed snapshot, not a git ref.
COMMITTED = ""


def summarize(run: ProgramRun, base: str | None = None) -> dict[str, Any]:
    """The plan of one stack as plain data (what `--json` prints).

    `base`: what the change hazards compare this plan with: COMMITTED (the command's
    default) for the committed snapshots/<stack>.json, the last reviewed plan, when there is
    one; a git ref for that ref's; None (runs of part of the program) for nothing.
    """
    settings = _settings(run)
    policy = _policy(run, settings)
    # Writes Azure serialises: pairs the recorded dependency graph would start at once.
    hazards = as_rows(check(run.resources)) if run.error is None else []
    # Changes to WORM accounts Azure refuses or that lose records, against the base plan.
    previous = _base_resources(run.stack, base) if run.error is None and base is not None else None
    changes = (
        as_rows(check_changes(previous, planned_entries(run.resources)))
        if previous is not None
        else []
    )
    resources = sorted(run.resources.values(), key=lambda r: r.urn)
    by_layer: dict[str, Counter[str]] = {}
    for resource in resources:
        if resource.custom:
            by_layer.setdefault(run.layer_of(resource), Counter())[resource.type] += 1
    return {
        "stack": run.stack,
        "project": run.project,
        # A stale exemption fails the plan too: it would hide the next violation on that name.
        "ok": run.ok
        and not hazards
        and not changes
        and (policy is None or (policy.ok and not policy.stale_exemptions)),
        "error": run.error,
        "environment": settings.environment if settings else None,
        "settings": _settings_view(settings) if settings else None,
        "resource_count": sum(1 for r in resources if r.custom),
        "component_count": sum(1 for r in resources if not r.custom),
        "counts_by_layer": {
            layer: dict(sorted(c.items())) for layer, c in sorted(by_layer.items())
        },
        "counts_by_type": dict(sorted(Counter(r.type for r in resources if r.custom).items())),
        "tree": _tree(run),
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "azure_name": r.outputs.get("name") if r.custom else None,
                "layer": run.layer_of(r),
                "parent": r.parent,
                "protect": r.protect,
            }
            for r in resources
        ],
        "outputs": {
            name: (MASK if name in run.secret_outputs else value)
            for name, value in sorted(run.stack_outputs.items())
        },
        "problems": [str(p) for p in run.problems],
        "hazards": hazards,
        "change_hazards": changes,
        "policy": _policy_view(policy),
        "cost": _cost_view(run, settings),
        "critical_path": _critical_path_view(run),
    }


def _base_resources(stack: str, base: str | None) -> dict[str, Any] | None:
    """The base plan's resources: the committed snapshot, or the one at git ref `base`."""
    from offline.snapshot import base_snapshot, path_for

    if base == COMMITTED and not path_for(stack).exists():
        return None
    resources: dict[str, Any] = base_snapshot(stack, base or None).get("resources") or {}
    return resources


def _cost_view(run: ProgramRun, settings: StackSettings | None) -> dict[str, Any] | None:
    """The monthly estimate against the budget (offline/cost.py)."""
    from offline import cost

    if settings is None or run.error is not None:
        return None
    report = cost.estimate(run, settings)
    return {
        **report.to_dict(),
        "text": cost.render_text(report),
        "markdown": cost.render_markdown(report),
    }


def _critical_path_view(run: ProgramRun) -> dict[str, Any] | None:
    """The longest chain of a first deploy (offline/critical_path.py)."""
    from offline import critical_path

    if run.error is not None:
        return None
    try:
        path = critical_path.critical_path(run)
    except (KeyError, ValueError) as exc:
        return {"error": str(exc.args[0])}
    return {
        **path.to_dict(),
        "text": critical_path.render_text(path),
        "markdown": critical_path.render_markdown(path),
    }


def _policy(run: ProgramRun, settings: StackSettings | None) -> PolicyReport | None:
    """The policy pack's verdict on this run, with the stack's shipped policy config."""
    if settings is None or run.error is not None:
        return None
    return evaluate(
        from_recorded(run.resources.values()),
        settings.environment,
        stack_outputs=run.stack_outputs,
        secret_outputs=run.secret_outputs,
    )


def _policy_view(report: PolicyReport | None) -> dict[str, Any] | None:
    if report is None:
        return None

    def results(items: Sequence[Any]) -> list[dict[str, Any]]:
        return [{"rule": r.rule, "urn": r.urn, "message": r.message} for r in items]

    return {
        "ok": report.ok,
        "summary": report.render().splitlines()[0],
        "text": report.render(),
        "mandatory": results(report.mandatory_violations),
        "advisory": results(report.advisory_violations),
        "exempted": results(report.exempted),
        "stale_exemptions": [
            {"rule": e.rule, "resource": e.resource, "message": e.message}
            for e in report.stale_exemptions
        ],
        "undecided": len(report.notes),
    }


def _settings(run: ProgramRun) -> StackSettings | None:
    try:
        return load_stack_settings(run.stack, run.config)
    except SettingsError:
        return None


def _settings_view(settings: StackSettings) -> dict[str, Any]:
    return {
        "deployment": settings.deployment.model_dump(mode="json", by_alias=True),
        **settings.env.model_dump(mode="json", by_alias=True),
    }


def _tree(run: ProgramRun) -> list[dict[str, Any]]:
    def node(resource: RecordedResource) -> dict[str, Any]:
        children = sorted(run.children_of(resource.urn), key=lambda r: (r.custom, r.type, r.name))
        entry: dict[str, Any] = {"name": resource.name, "type": resource.type}
        if resource.protect:
            entry["protect"] = True
        if children:
            entry["children"] = [node(child) for child in children]
        return entry

    roots = [r for r in run.resources.values() if r.parent not in run.resources]
    return [node(r) for r in sorted(roots, key=lambda r: r.urn)]


def _hazard_lines(hazards: list[dict[str, str]]) -> list[str]:
    if not hazards:
        return ["", "Serial-only siblings: every pair is ordered by the dependency graph."]
    return [
        "",
        f"Serial-only siblings ({len(hazards)}) that Azure would refuse to write "
        "at once or in this order:",
        *(f"  - {h['hazard']}: {h['message']} (source: {h['source']})" for h in hazards),
    ]


def _change_lines(changes: list[dict[str, str]]) -> list[str]:
    if not changes:
        return []
    return [
        "",
        f"Changes against the base plan ({len(changes)}) that Azure refuses or that lose records:",
        *(f"  - {h['hazard']}: {h['message']} (source: {h['source']})" for h in changes),
    ]


def render_text(plan: dict[str, Any]) -> str:
    """A person's view of one stack's plan."""
    lines = [
        f"Stack {plan['stack']} (project {plan['project']}, environment {plan['environment']})"
    ]
    if plan["error"]:
        lines += ["", "ERROR: the program stopped before deploying anything:", plan["error"]]
        return "\n".join(lines)
    settings = plan["settings"]
    lines += ["", "Feature flags:"]
    for flag, on in settings["features"].items():
        lines.append(f"  {'on ' if on else 'off'}  {flag}")
    lines += ["", "Key settings:"]
    for label, value in _key_settings(settings):
        lines.append(f"  {label:<28} {value}")
    lines += ["", "Resources by component:"]
    for root in plan["tree"]:
        lines += _render_node(root, "  ")
    lines += [
        "",
        f"Counts by layer ({plan['resource_count']} resources, "
        f"{plan['component_count']} components):",
    ]
    for layer, counts in plan["counts_by_layer"].items():
        lines.append(f"  {layer}: {sum(counts.values())}")
        for type_token, count in counts.items():
            lines.append(f"    {count:>3}  {type_token}")
    lines += ["", "Stack outputs:"]
    for name, value in plan["outputs"].items():
        lines.append(f"  {name}: {json.dumps(value)}")
    if plan["problems"]:
        lines += ["", f"Input problems ({len(plan['problems'])}), which `pulumi up` would reject:"]
        lines += [f"  - {p}" for p in plan["problems"]]
    lines += _hazard_lines(plan["hazards"])
    lines += _change_lines(plan.get("change_hazards", []))
    if plan["policy"] is not None:
        lines += ["", plan["policy"]["text"]]
    for view in ("cost", "critical_path"):
        if plan.get(view):
            lines += ["", plan[view].get("text") or f"{view}: {plan[view]['error']}"]
    return "\n".join(lines)


def render_markdown(plan: dict[str, Any]) -> str:
    """The plan as the CI job summary: resources by layer, settings, policy, cost, path."""
    ok = "passes" if plan["ok"] else "**fails**"
    lines = [f"## Offline plan: `{plan['stack']}` ({plan['environment']}) {ok}", ""]
    if plan["error"]:
        return "\n".join([*lines, "The program stopped:", "", "```", plan["error"], "```"])
    lines += [
        f"{plan['resource_count']} resources in {plan['component_count']} components.",
        "",
        "### Resources by layer",
        "",
        "| layer | type | count |",
        "|---|---|---:|",
    ]
    for layer, counts in plan["counts_by_layer"].items():
        lines += [f"| {layer} | `{t}` | {n} |" for t, n in counts.items()]
    settings = plan["settings"]
    lines += ["", "### Settings", "", "| setting | value |", "|---|---|"]
    lines += [f"| {flag} | {'on' if on else 'off'} |" for flag, on in settings["features"].items()]
    lines += [f"| {label} | {value} |" for label, value in _key_settings(settings)]
    if plan["problems"]:
        lines += ["", "### Input problems", ""] + [f"- {p}" for p in plan["problems"]]
    if plan.get("change_hazards"):
        lines += ["", "### Changes Azure refuses or that lose records", ""]
        lines += [
            f"- `{h['hazard']}`: {h['message']} ({h['source']})" for h in plan["change_hazards"]
        ]
    if plan["policy"] is not None:
        lines += ["", "### Policy report", "", "```", plan["policy"]["text"], "```"]
    for title, view in (("Monthly cost", "cost"), ("First-deploy critical path", "critical_path")):
        if plan.get(view):
            lines += ["", f"### {title}", "", plan[view].get("markdown") or plan[view]["error"]]
    return "\n".join(lines)


def _key_settings(settings: dict[str, Any]) -> list[tuple[str, Any]]:
    network, security, monitoring = (
        settings["network"],
        settings["security"],
        settings["monitoring"],
    )
    quota = monitoring["dailyQuotaGb"]
    return [
        ("location", settings["deployment"]["location"]),
        ("vnet", network["vnetCidr"]),
        ("subnets", ", ".join(f"{k} {v}" for k, v in network["subnets"].items())),
        ("ddos protection", network["enableDdosProtection"]),
        ("firewall", network["enableFirewall"]),
        ("private endpoints", security["enablePrivateEndpoints"]),
        ("key vault purge protection", security["enablePurgeProtection"]),
        ("key vault soft delete (days)", security["softDeleteRetentionDays"]),
        ("log retention (days)", monitoring["logRetentionDays"]),
        ("daily quota (GB)", "unlimited" if quota is None else quota),
        ("skus", ", ".join(f"{k}={v}" for k, v in settings["skus"].items())),
    ]


def _render_node(node: dict[str, Any], indent: str) -> list[str]:
    flag = "  [protected]" if node.get("protect") else ""
    lines = [f"{indent}{node['name']}  ({node['type']}){flag}"]
    for child in node.get("children", []):
        lines += _render_node(child, indent + "  ")
    return lines


def diff(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """What exists, or is configured, differently in two stacks' plans."""

    def keys(plan: dict[str, Any]) -> set[tuple[str, str]]:
        return {(r["type"], r["name"]) for r in plan["resources"]}

    def flat(value: Any, prefix: str = "") -> dict[str, Any]:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                out.update(flat(item, f"{prefix}.{key}" if prefix else key))
            return out
        return {prefix: value}

    left_settings, right_settings = flat(left["settings"] or {}), flat(right["settings"] or {})
    return {
        "left": left["stack"],
        "right": right["stack"],
        "only_left": sorted(f"{t} {n}" for t, n in keys(left) - keys(right)),
        "only_right": sorted(f"{t} {n}" for t, n in keys(right) - keys(left)),
        "settings": {
            key: [left_settings.get(key), right_settings.get(key)]
            for key in sorted(set(left_settings) | set(right_settings))
            if left_settings.get(key) != right_settings.get(key)
        },
    }


def render_diff(result: dict[str, Any]) -> str:
    left, right = result["left"], result["right"]
    # Marked as `pulumi preview` marks them: - removed, + added, ~ changed (going left -> right).
    lines = [f"Only in {left} ({len(result['only_left'])}):"]
    lines += [f"  - {item}" for item in result["only_left"]]
    lines += ["", f"Only in {right} ({len(result['only_right'])}):"]
    lines += [f"  + {item}" for item in result["only_right"]]
    lines += ["", f"Configured differently ({left} -> {right}):"]
    lines += [
        f"  ~ {key}: {json.dumps(a)} -> {json.dumps(b)}"
        for key, (a, b) in result["settings"].items()
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offline.plan", description=__doc__.splitlines()[0]
    )
    parser.add_argument("stack", help="stack name: dev, qa, staging or prod")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output form")
    parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.add_argument("--diff", metavar="OTHER", help="compare with another stack")
    parser.add_argument(
        "--base",
        metavar="REF",
        default=COMMITTED,
        help="git ref whose snapshot the change hazards compare with (default: snapshots/)",
    )
    args = parser.parse_args(argv)
    output = "json" if args.json else args.format

    plan = summarize(run_program(args.stack), base=args.base)
    if args.diff:
        other = summarize(run_program(args.diff), base=args.base)
        result = diff(plan, other)
        if output == "json":
            print(json.dumps(result, indent=2))
        elif output == "markdown":
            print(f"## `{args.stack}` -> `{args.diff}`\n\n```diff\n{render_diff(result)}\n```")
        else:
            print(render_diff(result))
        return 0 if plan["ok"] and other["ok"] else 1
    if output == "json":
        print(json.dumps(plan, indent=2, default=str))
    elif output == "markdown":
        print(render_markdown(plan))
    else:
        print(render_text(plan))
    return 0 if plan["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
