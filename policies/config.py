"""Policy pack configuration: enforcement per environment, per-rule overrides and exemptions.

The format is Pulumi's own policy pack config (`--policy-pack-config policies/config.<env>.json`):

    {
      "all": "advisory",                                   # optional, overrides every default
      "<rule>": "mandatory",                               # or an object:
      "<rule>": {
        "enforcementLevel": "advisory",
        "exemptions": [
          {"resource": "<URN or logical name>", "reason": "...", "expires": "2026-12-31"}
        ],
        "<option>": ...                                    # the rule's own options
      }
    }

The effective level of a rule is the rule's entry, else `all`, else the rule's default for
the environment (advisory in dev and qa, mandatory in staging and prod unless the rule says
otherwise). The Pulumi engine applies the same precedence to the levels the pack declares.
An exemption names the rule (by its key), the resource, a reason and an expiry date; it
suppresses that rule's violations on that resource up to and including the expiry date and
is reported as expired afterwards.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from policies.constants import ENVIRONMENTS, Environment
from policies.core import LEVELS, Finding, Level, RuleInfo

PACK_DIR = Path(__file__).resolve().parent
# Keys of a rule's config block that are not rule options.
RESERVED_KEYS = frozenset({"enforcementLevel", "exemptions"})

EXEMPTIONS_SCHEMA: Mapping[str, Any] = {
    "type": "array",
    "description": "Resources this rule does not apply to, each with a reason and an expiry.",
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "description": "URN or logical name"},
            "reason": {"type": "string", "minLength": 1},
            "expires": {"type": "string", "description": "ISO date, e.g. 2026-12-31"},
        },
        "required": ["resource", "reason", "expires"],
    },
}


class PolicyConfigError(ValueError):
    """A policy config file the pack cannot use; the message names the key and the value."""


@dataclass(frozen=True)
class Exemption:
    """Leave to one resource one rule's violations, for a reason, until a date."""

    rule: str
    resource: str
    reason: str
    expires: date

    def matches(self, rule: str, urn: str, name: str) -> bool:
        if rule != self.rule:
            return False
        logical = urn.rsplit("::", 1)[-1] if urn else name
        return self.resource in {urn, name, logical}

    def expired(self, today: date) -> bool:
        return today > self.expires

    @classmethod
    def parse(cls, rule: str, data: Any) -> Exemption:
        if not isinstance(data, Mapping):
            raise PolicyConfigError(f"{rule}.exemptions: {data!r} must be an object")
        missing = [k for k in ("resource", "reason", "expires") if not data.get(k)]
        if missing:
            raise PolicyConfigError(
                f"{rule}.exemptions: {json.dumps(data, default=str)} lacks {', '.join(missing)}"
            )
        try:
            expires = date.fromisoformat(str(data["expires"]))
        except ValueError as exc:
            raise PolicyConfigError(
                f"{rule}.exemptions: expires = {data['expires']!r} is not an ISO date (YYYY-MM-DD)"
            ) from exc
        return cls(rule, str(data["resource"]), str(data["reason"]), expires)


@dataclass(frozen=True)
class RuleSettings:
    """One rule's entry in the config: level override, exemptions, options."""

    enforcement: Level | None = None
    exemptions: tuple[Exemption, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, rule: str, data: Any) -> RuleSettings:
        """Read a rule's block, as in the JSON file or as `args.get_config()` returns it."""
        if data is None:
            return cls()
        if isinstance(data, str):
            return cls(enforcement=_level(rule, data))
        if not isinstance(data, Mapping):
            raise PolicyConfigError(f"{rule}: {data!r} must be a level or an object")
        level = data.get("enforcementLevel")
        exemptions = data.get("exemptions") or []
        if not isinstance(exemptions, list):
            raise PolicyConfigError(f"{rule}.exemptions must be a list")
        return cls(
            enforcement=_level(rule, level) if level is not None else None,
            exemptions=tuple(Exemption.parse(rule, e) for e in exemptions),
            options={k: v for k, v in data.items() if k not in RESERVED_KEYS},
        )


def _level(rule: str, value: Any) -> Level:
    if value not in LEVELS:
        raise PolicyConfigError(
            f"{rule}: enforcement level {value!r}; allowed: {', '.join(LEVELS)}"
        )
    return cast(Level, value)


@dataclass(frozen=True)
class PolicyConfig:
    """A whole policy config file."""

    all: Level | None = None
    rules: Mapping[str, RuleSettings] = field(default_factory=dict)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], known_rules: Iterable[str] | None = None
    ) -> PolicyConfig:
        """Parse Pulumi's policy config shape; checks rule names when `known_rules` is given."""
        known = set(known_rules) if known_rules is not None else None
        all_level = _level("all", data["all"]) if data.get("all") is not None else None
        rules: dict[str, RuleSettings] = {}
        for key, value in data.items():
            if key == "all":
                continue
            if known is not None and key not in known:
                raise PolicyConfigError(
                    f"unknown rule {key!r} in policy config; known: {', '.join(sorted(known))}"
                )
            rules[key] = RuleSettings.parse(key, value)
        return cls(all=all_level, rules=rules)

    @classmethod
    def load(cls, path: Path, known_rules: Iterable[str] | None = None) -> PolicyConfig:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise PolicyConfigError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, Mapping):
            raise PolicyConfigError(f"{path}: must hold a JSON object")
        try:
            return cls.from_mapping(data, known_rules)
        except PolicyConfigError as exc:
            raise PolicyConfigError(f"{path}: {exc}") from exc

    @classmethod
    def for_environment(cls, environment: Environment) -> PolicyConfig:
        """The shipped `policies/config.<environment>.json` (what CI passes to the CLI)."""
        from policies.rules import RULES

        path = PACK_DIR / f"config.{environment}.json"
        if not path.exists():
            return cls()
        return cls.load(path, [r.name for r in RULES])

    def settings(self, rule: str) -> RuleSettings:
        return self.rules.get(rule, RuleSettings())

    def level(self, rule: RuleInfo, environment: Environment) -> Level:
        override = self.settings(rule.name).enforcement
        if override is not None:
            return override
        if self.all is not None:
            return self.all
        return rule.enforcement[environment]


@dataclass(frozen=True)
class Judged:
    """A finding after exemptions: still a violation, or exempted, with the final message."""

    finding: Finding
    message: str
    exempted: bool


def judge(
    rule: str,
    *,
    finding: Finding,
    urn: str,
    name: str,
    exemptions: Iterable[Exemption],
    today: date,
) -> Judged:
    """Apply exemptions to one violation: a live one suppresses it, an expired one says so."""
    matching = [e for e in exemptions if e.matches(rule, urn, name)]
    live = [e for e in matching if not e.expired(today)]
    if live:
        chosen = max(live, key=lambda e: e.expires)
        return Judged(
            finding,
            f"{finding.message} [exempted until {chosen.expires.isoformat()}: {chosen.reason}]",
            exempted=True,
        )
    if matching:
        latest = max(matching, key=lambda e: e.expires)
        return Judged(
            finding,
            f"{finding.message} [exemption expired on {latest.expires.isoformat()}: "
            f"{latest.reason}]",
            exempted=False,
        )
    return Judged(finding, finding.message, exempted=False)


def environment_from_process(env: Mapping[str, str] | None = None) -> Environment | None:
    """The stack's environment, the way config/ decides it.

    The CLI starts the pack with PULUMI_STACK and PULUMI_CONFIG set: `platform:environment`
    when the stack file sets it, else the stack name (qualified names keep their last part).
    """
    env = os.environ if env is None else env
    candidate: str | None = None
    raw = env.get("PULUMI_CONFIG")
    if raw:
        try:
            config = json.loads(raw)
        except json.JSONDecodeError:
            config = {}
        value = config.get("platform:environment") if isinstance(config, Mapping) else None
        candidate = str(value) if value else None
    if candidate is None and env.get("PULUMI_STACK"):
        candidate = env["PULUMI_STACK"].rsplit("/", 1)[-1]
    return _environment(candidate)


def environment_from_tags(tags: Any) -> Environment | None:
    """The `environment` tag, when it names one of the four environments."""
    if isinstance(tags, Mapping):
        return _environment(tags.get("environment"))
    return None


def _environment(value: Any) -> Environment | None:
    for environment in ENVIRONMENTS:
        if value == environment:
            return environment
    return None
