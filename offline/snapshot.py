"""Plan snapshots: each stack's resources, inputs, settings and policy report, committed.

python -m offline.snapshot write                  # make snapshot: rewrite snapshots/*.json
python -m offline.snapshot check                  # exit 1 when a committed snapshot is stale
python -m offline.snapshot diff prod              # what this tree changes against snapshots/
python -m offline.snapshot diff --base origin/main --format markdown   # the PR's effect

A snapshot is sorted, indented JSON, one resource per key, so `git diff` shows an
infrastructure change line by line. Secret inputs and outputs are masked; values that
legitimately change with the calendar are pinned (VOLATILE_INPUTS).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from config.settings import ENVIRONMENTS, SettingsError, load_stack_settings
from offline.engine import PROJECT_DIR, SECRET_PLACEHOLDER, ProgramRun, run_program
from offline.hazards import check_changes

SNAPSHOT_DIR = PROJECT_DIR / "snapshots"
MASK = "[secret]"
REGENERATE = "make snapshot"

# Inputs that move with the date of the run, not with the code: (type, dotted path) -> pin.
VOLATILE_INPUTS: dict[tuple[str, str], str] = {
    # The first of the month the stack is created in (infra/observability/budget.py).
    ("azure-native:consumption:Budget", "timePeriod.startDate"): "<first of the creation month>",
}


def snapshot(run: ProgramRun) -> dict[str, Any]:
    """The reviewable state of one stack's plan, as plain sorted data."""
    from offline.plan import summarize

    if run.error is not None:
        raise ValueError(f"stack {run.stack}: the program stopped: {run.error}")
    plan = summarize(run)
    try:
        settings = load_stack_settings(run.stack, run.config)
    except SettingsError as exc:
        raise ValueError(f"stack {run.stack}: {exc}") from None
    keys = {urn: _key(urn) for urn in run.resources}
    resources: dict[str, Any] = {}
    for urn, resource in sorted(run.resources.items()):
        if not resource.custom:
            continue
        inputs = _mask(resource.inputs)
        for (type_token, path), pin in VOLATILE_INPUTS.items():
            if resource.type == type_token:
                _pin(inputs, path.split("."), pin)
        entry: dict[str, Any] = {"type": resource.type, "name": resource.name, "inputs": inputs}
        if resource.protect:
            entry["protect"] = True
        dependencies = sorted(keys[d] for d in resource.dependencies if d in keys)
        if dependencies:
            entry["dependsOn"] = dependencies
        resources[keys[urn]] = entry
    policy = plan["policy"] or {}
    return {
        "stack": run.stack,
        "environment": settings.environment,
        "settings": {
            "deployment": settings.deployment.model_dump(mode="json", by_alias=True),
            "environment": settings.env.model_dump(mode="json", by_alias=True),
        },
        "policy": {
            "summary": policy.get("summary"),
            "mandatory": policy.get("mandatory", []),
            "advisory": policy.get("advisory", []),
            "exempted": policy.get("exempted", []),
        },
        "resources": resources,
        "outputs": {
            name: MASK if name in run.secret_outputs else _mask(value)
            for name, value in sorted(run.stack_outputs.items())
        },
    }


def _key(urn: str) -> str:
    """The URN without stack and project: the identity Pulumi diffs on (type chain::name)."""
    return urn.split("::", 3)[2] + "::" + urn.split("::", 3)[3]


def _mask(value: Any) -> Any:
    if rpc.is_rpc_secret(value) or value == SECRET_PLACEHOLDER:
        return MASK
    if isinstance(value, Mapping):
        return {str(k): _mask(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


def _pin(node: Any, path: list[str], pin: str) -> None:
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        node = node[part]
    if isinstance(node, dict) and path[-1] in node:
        node[path[-1]] = pin


def dumps(data: Mapping[str, Any]) -> str:
    """The committed form: sorted keys, two-space indent, a final newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_for(stack: str, directory: Path = SNAPSHOT_DIR) -> Path:
    return directory / f"{stack}.json"


def write(stacks: Sequence[str], directory: Path = SNAPSHOT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for stack in stacks:
        target = path_for(stack, directory)
        target.write_text(dumps(snapshot(run_program(stack))))
        written.append(target)
    return written


def stale(run: ProgramRun, directory: Path = SNAPSHOT_DIR) -> str | None:
    """Why the committed snapshot of `run`'s stack no longer matches the code, or None."""
    target = path_for(run.stack, directory)
    relative = target.relative_to(PROJECT_DIR) if target.is_relative_to(PROJECT_DIR) else target
    if not target.exists():
        return f"{relative} is missing: run `{REGENERATE}` and commit it"
    committed = json.loads(target.read_text())
    current = snapshot(run)
    if committed == current:
        return None
    changes = compare(committed, current)
    return (
        f"{relative} is stale ({_counts(changes)}): run `{REGENERATE}` and commit it\n"
        + render_text({run.stack: changes})
    )


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and any(isinstance(v, Mapping | list) for v in value):
        out = {}
        for index, item in enumerate(value):
            out.update(_flat(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def _property_changes(old: Any, new: Any) -> list[tuple[str, str, Any, Any]]:
    """(marker, path, old, new) for every leaf that differs."""
    left, right = _flat(old), _flat(new)
    changes = []
    for path in sorted(set(left) | set(right)):
        if path not in left:
            changes.append(("+", path, None, right[path]))
        elif path not in right:
            changes.append(("-", path, left[path], None))
        elif left[path] != right[path]:
            changes.append(("~", path, left[path], right[path]))
    return changes


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> dict[str, Any]:
    """What `head` adds, removes and changes against `base` (two snapshots of one stack)."""
    old, new = base.get("resources", {}), head.get("resources", {})
    return {
        "added": [_label(new[k]) for k in sorted(set(new) - set(old))],
        "removed": [_label(old[k]) for k in sorted(set(old) - set(new))],
        "changed": {
            _label(new[k]): _property_changes(
                {i: v for i, v in old[k].items() if i not in ("type", "name")},
                {i: v for i, v in new[k].items() if i not in ("type", "name")},
            )
            for k in sorted(set(old) & set(new))
            if old[k] != new[k]
        },
        "settings": _property_changes(base.get("settings"), head.get("settings")),
        "policy": _property_changes(base.get("policy"), head.get("policy")),
        "outputs": _property_changes(base.get("outputs"), head.get("outputs")),
    }


def _label(entry: Mapping[str, Any]) -> str:
    return f"{entry['type']} {entry['name']}"


def _counts(changes: Mapping[str, Any]) -> str:
    return (
        f"{len(changes['added'])} to add, {len(changes['removed'])} to remove, "
        f"{len(changes['changed'])} to change"
    )


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _property_lines(changes: Sequence[tuple[str, str, Any, Any]]) -> list[str]:
    lines = []
    for marker, path, old, new in changes:
        if marker == "~":
            lines.append(f"~       {path}: {_value(old)} => {_value(new)}")
        else:
            lines.append(f"{marker}       {path}: {_value(new if marker == '+' else old)}")
    return lines


def render_text(by_stack: Mapping[str, Mapping[str, Any]]) -> str:
    """Marked as `pulumi preview` marks them: + add, - remove, ~ change (and what changed)."""
    lines: list[str] = []
    for stack, changes in by_stack.items():
        lines.append(f"Stack {stack}: {_counts(changes)}")
        lines += [f"+   {label}" for label in changes["added"]]
        lines += [f"-   {label}" for label in changes["removed"]]
        for label, properties in changes["changed"].items():
            lines.append(f"~   {label}")
            lines += _property_lines(properties)
        for section in ("settings", "policy", "outputs"):
            if changes[section]:
                lines.append(f"~   {section}")
                lines += _property_lines(changes[section])
        lines += [f"!   {hazard}" for hazard in changes.get("hazards", [])]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(by_stack: Mapping[str, Mapping[str, Any]], base: str) -> str:
    lines = [f"## Infrastructure effect against {base}", ""]
    for stack, changes in by_stack.items():
        lines.append(f"- **{stack}**: {_counts(changes)}")
    lines += ["", "```diff", render_text(by_stack).rstrip(), "```"]
    return "\n".join(lines)


def base_snapshot(stack: str, base: str | None) -> dict[str, Any]:
    """The committed snapshot of `stack`, or the one at git ref `base` (empty if none)."""
    if base is None:
        target = path_for(stack)
        if not target.exists():
            raise FileNotFoundError(f"{target} does not exist; run `{REGENERATE}` first")
        loaded: dict[str, Any] = json.loads(target.read_text())
        return loaded
    relative = path_for(stack).relative_to(PROJECT_DIR).as_posix()
    shown = subprocess.run(  # noqa: S603 - fixed argv, the ref is the user's own
        ["git", "show", f"{base}:{relative}"],  # noqa: S607 - git from PATH, as CI runs it
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        return {"resources": {}, "settings": None, "policy": None, "outputs": None}
    parsed: dict[str, Any] = json.loads(shown.stdout)
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.snapshot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("write", "check", "diff"):
        command = sub.add_parser(name)
        command.add_argument("stacks", nargs="*", help="stacks (default: all four)")
        if name == "diff":
            command.add_argument(
                "--base", help="git ref whose snapshots/ to compare with (default: the files)"
            )
            command.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    args = parser.parse_args(argv)
    stacks = list(args.stacks) or list(ENVIRONMENTS)
    unknown = sorted(set(stacks) - set(ENVIRONMENTS))
    if unknown:
        parser.error(f"unknown stack(s) {', '.join(unknown)}; allowed: {', '.join(ENVIRONMENTS)}")

    if args.command == "write":
        for target in write(stacks):
            print(f"wrote {target.relative_to(PROJECT_DIR)}")
        return 0
    if args.command == "check":
        problems = [p for p in (stale(run_program(s)) for s in stacks) if p]
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    by_stack: dict[str, Any] = {}
    refused: list[str] = []
    for stack in stacks:
        base, head = base_snapshot(stack, args.base), snapshot(run_program(stack))
        by_stack[stack] = compare(base, head)
        found = check_changes(base.get("resources") or {}, head["resources"])
        by_stack[stack]["hazards"] = [str(h) for h in found]
        refused += [f"{stack}: {h}" for h in found]
    if args.format == "json":
        print(json.dumps(by_stack, indent=2, sort_keys=True))
    elif args.format == "markdown":
        print(render_markdown(by_stack, args.base or "the committed snapshots"))
    else:
        print(render_text(by_stack), end="")
    # A change Azure refuses, or one that loses audit records, fails the diff (and the PR).
    for line in refused:
        print(f"hazard: {line}", file=sys.stderr)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
