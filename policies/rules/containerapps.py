"""Container Apps: VNet-only ingress from named subnets, no plain HTTP, identity-based pulls,
health probes, roll-outs by revision; environments internal, logging through Azure Monitor."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from policies.core import (
    MISSING,
    UNKNOWN,
    Finding,
    ResourceRule,
    RuleContext,
    expect,
    expect_identity,
    expect_present,
    lookup,
    unknown,
    violation,
)
from policies.rules.outputs import SECRET_VALUE

CONTAINER_APP = "azure-native:app:ContainerApp"
MANAGED_ENVIRONMENT = "azure-native:app:ManagedEnvironment"
# Env var names that carry a credential when they hold a literal value (not a secretRef).
SECRET_ENV = re.compile(
    r"(password|passwd|secret|api[_-]?key|access[_-]?key|account[_-]?key|"
    r"connection[_-]?string|sas[_-]?token|private[_-]?key)",
    re.IGNORECASE,
)
# Names that match SECRET_ENV but hold no secret: App Insights' connection string (local auth
# off, it only names the component), and Argon2id's cost parameters, which every stored hash
# carries in the clear (RFC 9106 section 3.1; the PHC string format).
HARMLESS_ENV = re.compile(
    r"^(applicationinsights_connection_string|password_hash_(time_cost|memory_kib|parallelism))$",
    re.IGNORECASE,
)
ALLOWED_EXTERNAL_OPTION = "allowedExternalApps"
PROBE_EXEMPT_OPTION = "probeExemptImages"
# The program's first-deploy image (config/images.py BOOTSTRAP_IMAGE) has no health routes;
# the pack ships on its own, so tests keep the two equal.
BOOTSTRAP_IMAGES = ("mcr.microsoft.com/k8se/quickstart:latest",)
PROBE_TYPES = ("Liveness", "Readiness", "Startup")
# Revision modes that keep more than one revision, so traffic can be split during a roll-out.
# https://learn.microsoft.com/azure/container-apps/revisions#revision-modes
SPLIT_MODES = ("Multiple", "Labels")


def _private_sources(restrictions: Any) -> bool | None:
    """True when ingress admits only private (RFC 1918-style) ranges; None while unknown."""
    if restrictions is UNKNOWN:
        return None
    if not isinstance(restrictions, list) or not restrictions:
        return False
    verdicts: list[bool | None] = []
    for rule in restrictions:
        action, cidr = lookup(rule, "action"), lookup(rule, "ipAddressRange")
        if UNKNOWN in (rule, action, cidr):
            verdicts.append(None)
            continue
        if not (isinstance(action, str) and action.lower() == "allow" and isinstance(cidr, str)):
            return False
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return False
        verdicts.append(network.is_private and network.prefixlen >= 8)
    if False in verdicts:
        return False
    return None if None in verdicts else True


def _admits_everything(cidr: Any) -> bool:
    """A range no caller list should hold: not a range at all, or every address (/0)."""
    if not isinstance(cidr, str):
        return True
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return True


def internal_ingress(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Apps are reached through API Management, never straight from the Internet.

    An app may be allow-listed by the rule option `allowedExternalApps` (Azure names or
    logical names). Unset `external` is Azure's default, false. `external = true` passes
    when the ingress admits private ranges only: in an internal environment that is how an
    app is reached from other subnets of the VNet (internal ingress admits only apps of the
    same environment), and no Internet source can match a private range.
    https://learn.microsoft.com/azure/container-apps/ingress-overview#external-and-internal-ingress
    """
    allowed = {str(a) for a in ctx.option(ALLOWED_EXTERNAL_OPTION, [])}
    name = lookup(props, "containerAppName")
    if ctx.name in allowed or (isinstance(name, str) and name in allowed):
        return []
    if lookup(props, "configuration.ingress.external") is True:
        verdict = _private_sources(lookup(props, "configuration.ingress.ipSecurityRestrictions"))
        if verdict is None:
            return [unknown("configuration.ingress.ipSecurityRestrictions")]
        if verdict:
            return []
    return expect(
        props,
        "configuration.ingress.external",
        [False],
        f"only API Management is public (or admit private ranges only in "
        f"ipSecurityRestrictions); allow-list the app in {ALLOWED_EXTERNAL_OPTION} "
        "if it must be external",
        default=False,
    )


def ingress_ip_restrictions(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Ingress admits only named source ranges: Allow rules, none of them everything.

    Allow rules deny every other source; Deny rules admit every source they do not name.
    https://learn.microsoft.com/azure/container-apps/ip-restrictions
    """
    ingress = lookup(props, "configuration.ingress")
    if ingress is UNKNOWN:
        return [unknown("configuration.ingress")]
    if ingress is MISSING:
        return []  # no ingress: nothing reaches the app
    path = "configuration.ingress.ipSecurityRestrictions"
    restrictions = lookup(props, path)
    if restrictions is UNKNOWN:
        return [unknown(path)]
    if not isinstance(restrictions, list) or not restrictions:
        return [
            violation(
                f"{path} is not set: the ingress admits every source; admit the calling "
                "subnets with Allow rules"
            )
        ]
    findings: list[Finding] = []
    for index, rule in enumerate(restrictions):
        action, cidr = lookup(rule, "action"), lookup(rule, "ipAddressRange")
        if UNKNOWN in (rule, action, cidr):
            findings.append(unknown(f"{path}[{index}]"))
        elif not (isinstance(action, str) and action.lower() == "allow"):
            findings.append(
                violation(
                    f"{path}[{index}] is a {action} rule: Deny rules admit every source they "
                    "do not name; use Allow rules for the callers only"
                )
            )
        elif _admits_everything(cidr):
            findings.append(
                violation(f"{path}[{index}] admits {cidr!r}, every address; name the callers")
            )
    return findings


def health_probes(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Every container has liveness, readiness and startup probes (exempt: bootstrap images).

    https://learn.microsoft.com/azure/container-apps/health-probes
    """
    exempt = {str(i) for i in ctx.option(PROBE_EXEMPT_OPTION, list(BOOTSTRAP_IMAGES))}
    containers = lookup(props, "template.containers")
    if containers is UNKNOWN:
        return [unknown("template.containers")]
    if not isinstance(containers, list) or not containers:
        return [violation("template.containers is not set: no container to probe")]
    findings: list[Finding] = []
    for index, container in enumerate(containers):
        path = f"template.containers[{index}]"
        image, probes = lookup(container, "image"), lookup(container, "probes")
        if isinstance(image, str) and image in exempt:
            continue
        if UNKNOWN in (container, probes):
            findings.append(unknown(f"{path}.probes"))
            continue
        kinds = {
            str(lookup(p, "type")).lower()
            for p in (probes if isinstance(probes, list) else [])
            if lookup(p, "type") is not UNKNOWN
        }
        if isinstance(probes, list) and any(lookup(p, "type") is UNKNOWN for p in probes):
            findings.append(unknown(f"{path}.probes"))
            continue
        missing = [k for k in PROBE_TYPES if k.lower() not in kinds]
        if not missing:
            continue
        if image is UNKNOWN:
            findings.append(unknown(f"{path}.image"))  # may be an exempt bootstrap image
            continue
        findings.append(
            violation(
                f"{path} ({image}) has no {', '.join(missing)} probe: a hung or unready "
                "replica keeps taking traffic"
            )
        )
    return findings


def revision_mode(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Several revisions may be active, and traffic weights add up to 100.

    Single (Azure's default) swaps every replica at once, with no way to shift traffic back.
    https://learn.microsoft.com/azure/container-apps/traffic-splitting
    """
    findings = expect(
        props,
        "configuration.activeRevisionsMode",
        SPLIT_MODES,
        "a new revision takes part of the traffic before all of it",
        default="Single",
    )
    traffic = lookup(props, "configuration.ingress.traffic")
    if traffic is UNKNOWN:
        return [*findings, unknown("configuration.ingress.traffic")]
    if not isinstance(traffic, list) or not traffic:
        return findings
    weights = [lookup(t, "weight") for t in traffic]
    if UNKNOWN in weights:
        return [*findings, unknown("configuration.ingress.traffic[].weight")]
    total = sum(w for w in weights if isinstance(w, int | float) and not isinstance(w, bool))
    if total != 100:
        findings.append(
            violation(f"configuration.ingress.traffic weights add up to {total:g}; allowed: 100")
        )
    return findings


def environment_internal(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """The environment sits in the VNet with only an internal load balancer address.

    https://learn.microsoft.com/azure/container-apps/networking#accessibility-level
    """
    return [
        *expect_present(
            props,
            "vnetConfiguration.infrastructureSubnetId",
            "without a subnet the environment is on a public network Microsoft generates",
        ),
        *expect(
            props,
            "vnetConfiguration.internal",
            [True],
            "an external environment has a public IP address",
            default=False,
        ),
    ]


def environment_logs(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Logs go through Azure Monitor diagnostic settings, never with the workspace's key.

    The `log-analytics` destination needs the workspace's shared key in the environment's
    configuration (and so in state). https://learn.microsoft.com/azure/container-apps/log-options
    """
    findings = expect(
        props,
        "appLogsConfiguration.destination",
        ["azure-monitor"],
        "the environment sends its logs through diagnostic settings, with no shared key",
    )
    key = lookup(props, "appLogsConfiguration.logAnalyticsConfiguration.sharedKey")
    if key is UNKNOWN or (isinstance(key, str) and key):
        findings.append(
            violation(
                "appLogsConfiguration.logAnalyticsConfiguration.sharedKey is set: the "
                "workspace's key would sit in the configuration; use azure-monitor"
            )
        )
    return findings


def no_insecure_ingress(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Ingress redirects HTTP to HTTPS; Azure's default is false."""
    return expect(
        props,
        "configuration.ingress.allowInsecure",
        [False],
        "plain HTTP exposes requests and tokens",
        default=False,
    )


def identity_registry_pulls(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """A managed identity, and every registry pulled with it (no admin user or password)."""
    findings = expect_identity(props, "images are pulled and services reached as the app itself")
    registries = lookup(props, "configuration.registries")
    if registries is UNKNOWN:
        return [*findings, unknown("configuration.registries")]
    if not isinstance(registries, list):
        return findings
    for index, registry in enumerate(registries):
        path = f"configuration.registries[{index}]"
        if registry is UNKNOWN:
            findings.append(unknown(path))
            continue
        identity = lookup(registry, "identity")
        server = lookup(registry, "server")
        label = f"{path} ({server})" if isinstance(server, str) else path
        if identity is UNKNOWN:
            findings.append(unknown(f"{path}.identity"))
        elif not isinstance(identity, str) or not identity:
            findings.append(
                violation(f"{label} has no identity; pull with a managed identity, not a password")
            )
        secret_ref = lookup(registry, "passwordSecretRef")
        if isinstance(secret_ref, str) and secret_ref:
            findings.append(
                violation(f"{label} uses passwordSecretRef; registry passwords are off")
            )
    return findings


def no_inline_secrets(props: Mapping[str, Any], ctx: RuleContext) -> list[Finding]:
    """Secrets are Key Vault references read with the app's identity; env vars hold no keys."""
    findings: list[Finding] = []
    secrets = lookup(props, "configuration.secrets")
    if secrets is UNKNOWN:
        findings.append(unknown("configuration.secrets"))
    for index, secret in enumerate(secrets if isinstance(secrets, list) else []):
        name, vault = lookup(secret, "name"), lookup(secret, "keyVaultUrl")
        value = lookup(secret, "value")
        if vault is UNKNOWN:
            findings.append(unknown(f"configuration.secrets[{index}].keyVaultUrl"))
        elif not (isinstance(vault, str) and vault):
            shown = name if isinstance(name, str) else index
            what = "holds its value inline" if value is not MISSING else "has no keyVaultUrl"
            findings.append(
                violation(
                    f"secret {shown!r} {what}; reference Key Vault (keyVaultUrl + identity) "
                    "so the value never sits in the app's configuration"
                )
            )
    containers = lookup(props, "template.containers")
    if containers is UNKNOWN:
        return [*findings, unknown("template.containers")]
    for container in containers if isinstance(containers, list) else []:
        env = lookup(container, "env")
        for var in env if isinstance(env, list) else []:
            findings += _env_var(var)
    return findings


def _env_var(var: Any) -> list[Finding]:
    name, value = lookup(var, "name"), lookup(var, "value")
    if name is UNKNOWN or var is UNKNOWN:
        literal = isinstance(value, str) and bool(value)
        return [unknown("env var name")] if literal or value is UNKNOWN else []
    if not isinstance(name, str) or not SECRET_ENV.search(name) or HARMLESS_ENV.search(name):
        if isinstance(value, str) and SECRET_VALUE.search(value):
            return [violation(f"env var {name!r} holds a credential; use secretRef")]
        return []
    if value is UNKNOWN:
        return [unknown(f"env var {name}")]
    if isinstance(value, str) and value:
        return [violation(f"env var {name!r} holds a literal secret; use secretRef")]
    return []


RULES = (
    ResourceRule(
        name="containerapp-internal-ingress",
        description="Container apps have internal ingress unless allow-listed "
        f"(option {ALLOWED_EXTERNAL_OPTION}).",
        resource_types=(CONTAINER_APP,),
        control="MCSB NS-2",
        check=internal_ingress,
        options_schema={
            ALLOWED_EXTERNAL_OPTION: {
                "type": "array",
                "items": {"type": "string"},
                "description": "Container apps (Azure or logical names) allowed external ingress.",
            }
        },
    ),
    ResourceRule(
        name="containerapp-ingress-ip-restrictions",
        description="Container app ingress admits only named source ranges (Allow rules).",
        resource_types=(CONTAINER_APP,),
        control="MCSB NS-2",
        check=ingress_ip_restrictions,
    ),
    ResourceRule(
        name="containerapp-health-probes",
        description="Every container has liveness, readiness and startup probes "
        f"(option {PROBE_EXEMPT_OPTION}: images without health routes).",
        resource_types=(CONTAINER_APP,),
        control="WAF-RE:07",
        check=health_probes,
        options_schema={
            PROBE_EXEMPT_OPTION: {
                "type": "array",
                "items": {"type": "string"},
                "description": "Images that have no health routes (the bootstrap image).",
            }
        },
    ),
    ResourceRule(
        name="containerapp-revision-mode",
        description="Container apps keep several revisions active and split traffic to 100%.",
        resource_types=(CONTAINER_APP,),
        control="WAF-OE:11",
        check=revision_mode,
    ),
    ResourceRule(
        name="containerapp-environment-internal",
        description="Container Apps environments are VNet-injected and internal.",
        resource_types=(MANAGED_ENVIRONMENT,),
        control="MCSB NS-2",
        check=environment_internal,
    ),
    ResourceRule(
        name="containerapp-environment-logs",
        description="Container Apps environments log through Azure Monitor, not a shared key.",
        resource_types=(MANAGED_ENVIRONMENT,),
        control="MCSB LT-3",
        check=environment_logs,
    ),
    ResourceRule(
        name="containerapp-no-insecure-ingress",
        description="Container app ingress does not allow plain HTTP.",
        resource_types=(CONTAINER_APP,),
        control="MCSB DP-3",
        check=no_insecure_ingress,
    ),
    ResourceRule(
        name="containerapp-identity-registry-pull",
        description="Container apps have a managed identity and pull every registry with one.",
        resource_types=(CONTAINER_APP,),
        control="MCSB IM-3",
        check=identity_registry_pulls,
    ),
    ResourceRule(
        name="containerapp-no-inline-secrets",
        description="Container app secrets are Key Vault references and env vars hold no "
        "literal keys or passwords.",
        resource_types=(CONTAINER_APP,),
        control="MCSB IM-8 / DP-6",
        check=no_inline_secrets,
    ),
)
