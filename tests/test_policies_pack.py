"""The pulumi_policy adapter: fake args through the real policy objects, and the served pack."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policies.pack import build_policies, record_of
from policies.rules import RULES, RULES_BY_NAME
from tests.policies.builders import TAGS, UNKNOWN_BOOL, UNKNOWN_STRING

ROOT = Path(__file__).resolve().parent.parent
STORAGE = "azure-native:storage:StorageAccount"
URN = f"urn:pulumi:prod::platform::platform:etl:Etl${STORAGE}::etl-storage"
TODAY = date(2026, 11, 23)


def _opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _args(
    props: Mapping[str, Any], config: Mapping[str, Any] | None = None, type_: str = STORAGE
) -> ResourceValidationArgs:
    # The engine hands policies proxies that raise on unknown values.
    proxied = unknown_checking_proxy(dict(props))
    return ResourceValidationArgs(type_, proxied, URN, "etl-storage", _opts(), None, config)


def _policies(environment: str | None = "prod") -> dict[str, Any]:
    return {p.name: p for p in build_policies(environment, today=lambda: TODAY)}  # type: ignore[arg-type]


def _validate(policy: Any, args: Any) -> list[tuple[str, str | None]]:
    reported: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def test_one_policy_per_pack_rule() -> None:
    policies = build_policies("prod")
    expected = [r.name for r in RULES if r.kind != "offline"]
    assert [p.name for p in policies] == expected
    kinds = {p.name: type(p) for p in policies}
    assert kinds["storage-https-only"] is ResourceValidationPolicy
    assert kinds["private-endpoints-required"] is StackValidationPolicy


@pytest.mark.parametrize(
    ("environment", "rule", "level"),
    [
        ("dev", "sql-no-public-network", EnforcementLevel.ADVISORY),
        ("qa", "sql-no-public-network", EnforcementLevel.ADVISORY),
        ("staging", "sql-no-public-network", EnforcementLevel.MANDATORY),
        ("prod", "sql-no-public-network", EnforcementLevel.MANDATORY),
        ("dev", "nsg-no-internet-management-ports", EnforcementLevel.MANDATORY),
        (None, "sql-no-public-network", EnforcementLevel.MANDATORY),
    ],
)
def test_policy_levels_follow_the_environment(
    environment: str | None, rule: str, level: EnforcementLevel
) -> None:
    assert _policies(environment)[rule].enforcement_level is level


def test_every_policy_declares_an_exemptions_schema() -> None:
    for policy in build_policies("prod"):
        assert policy.config_schema is not None
        assert "exemptions" in policy.config_schema.properties
    ingress = _policies()["containerapp-internal-ingress"].config_schema.properties
    assert "allowedExternalApps" in ingress


def test_violation_is_reported_through_the_adapter() -> None:
    reported = _validate(
        _policies()["storage-no-shared-key"], _args({"allowSharedKeyAccess": True})
    )
    [(message, urn)] = reported
    assert "allowSharedKeyAccess = true" in message
    assert urn is None  # the engine attaches resource policy violations to the resource


def test_compliant_resource_reports_nothing() -> None:
    assert (
        _validate(_policies()["storage-no-shared-key"], _args({"allowSharedKeyAccess": False}))
        == []
    )


def test_other_resource_types_are_skipped() -> None:
    args = _args({"allowSharedKeyAccess": True}, type_="azure-native:keyvault:Vault")
    assert _validate(_policies()["storage-no-shared-key"], args) == []


def test_unknown_value_becomes_the_sdks_preview_advisory() -> None:
    with pytest.raises(UnknownValueError) as raised:
        _validate(
            _policies()["storage-no-shared-key"], _args({"allowSharedKeyAccess": UNKNOWN_BOOL})
        )
    assert "allowSharedKeyAccess is unknown" in raised.value.message


def test_violations_win_over_unknowns() -> None:
    props = {"tags": {**TAGS, "owner": UNKNOWN_STRING, "project": ""}}
    [(message, _)] = _validate(_policies()["tags-required"], _args(props))
    assert "project" in message


def test_exemption_from_policy_config() -> None:
    config = {
        "exemptions": [
            {"resource": "etl-storage", "reason": "legacy reader", "expires": "2026-12-31"}
        ]
    }
    assert (
        _validate(
            _policies()["storage-no-shared-key"], _args({"allowSharedKeyAccess": True}, config)
        )
        == []
    )


def test_expired_exemption_from_policy_config() -> None:
    config = {"exemptions": [{"resource": URN, "reason": "legacy reader", "expires": "2026-11-01"}]}
    [(message, _)] = _validate(
        _policies()["storage-no-shared-key"], _args({"allowSharedKeyAccess": True}, config)
    )
    assert "exemption expired on 2026-11-01" in message


def test_environment_from_tags_when_the_stack_is_unknown() -> None:
    props = {
        "properties": {"publicNetworkAccess": "Enabled"},
        "tags": {**TAGS, "environment": "dev"},
    }
    args = _args(props, type_="azure-native:keyvault:Vault")
    assert _validate(_policies(None)["keyvault-no-public-network"], args) == []
    args = _args({**props, "tags": TAGS}, type_="azure-native:keyvault:Vault")
    assert _validate(_policies(None)["keyvault-no-public-network"], args)


def _resource(
    type_: str, name: str, props: Mapping[str, Any], protect: bool = False
) -> PolicyResource:
    urn = f"urn:pulumi:prod::platform::{type_}::{name}"
    return PolicyResource(
        type_, unknown_checking_proxy(dict(props)), urn, name, _opts(protect), None, None, [], {}
    )


def test_stack_policy_reports_per_resource_urn() -> None:
    db = _resource("azure-native:sql:Database", "db", {"databaseName": "sqldb-orders"})
    vault = _resource("azure-native:keyvault:Vault", "kv", {"vaultName": "kv-a"}, protect=True)
    reported: list[tuple[str, str | None]] = []
    args = StackValidationArgs([db, vault], None)
    _policies()["prod-data-protected"].validate(args, lambda m, u=None: reported.append((m, u)))
    assert [u for _, u in reported] == [db.urn]


def test_stack_policy_follows_dependencies_in_preview() -> None:
    vault = _resource("azure-native:keyvault:Vault", "kv", {"vaultName": UNKNOWN_STRING})
    pe = _resource(
        "azure-native:network:PrivateEndpoint",
        "kv-pep",
        {"privateLinkServiceConnections": [{"name": "kv", "privateLinkServiceId": UNKNOWN_STRING}]},
    )
    pe.dependencies.append(vault)
    pe.property_dependencies["privateLinkServiceConnections"] = [vault]
    record = record_of(pe)
    assert record.property_dependencies == {"privateLinkServiceConnections": (vault.urn,)}
    reported: list[str] = []
    _policies()["private-endpoints-required"].validate(
        StackValidationArgs([vault, pe], None), lambda m, u=None: reported.append(m)
    )
    assert reported == []


# ---- imports and the served pack -------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_rule_modules_starts_no_server() -> None:
    done = _python(
        "import sys, policies.rules, policies.offline, policies.pack, policies.compliance\n"
        "assert 'policies.__main__' not in sys.modules\n"
        "import grpc\n"
        "print('imported')\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "imported\n", "PolicyPack() would have printed its port and blocked"


@pytest.fixture
def served_pack() -> Iterator[int]:
    """The pack started as the CLI does: `python -m pulumi.policy <engine> .` in policies/."""
    env = {
        **os.environ,
        "PULUMI_STACK": "prod",
        "PULUMI_PROJECT": "platform",
        "PULUMI_DRY_RUN": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=ROOT / "policies",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            process.kill()
            pytest.fail(
                f"pack did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
            )
        yield int(line)
    finally:
        process.kill()
        process.wait(timeout=10)


def test_served_pack_answers_the_engine(served_pack: int) -> None:
    # grpc and protobuf ship no type stubs here; the test only drives them.
    grpc: Any = importlib.import_module("grpc")
    empty_pb2: Any = importlib.import_module("google.protobuf.empty_pb2")
    struct_pb2: Any = importlib.import_module("google.protobuf.struct_pb2")
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{served_pack}") as channel:
        stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        assert info.name == "azure-platform"
        assert len(info.policies) == sum(1 for r in RULES if r.kind != "offline")
        levels = {p.name: p.enforcementLevel for p in info.policies}
        assert levels["sql-no-public-network"] == analyzer_pb2.MANDATORY

        props = struct_pb2.Struct()
        props.update({"allowSharedKeyAccess": True, "accountName": "stplatprodwus2abc123"})
        response = stub.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=STORAGE, properties=props, urn=URN, name="etl-storage"
            ),
            timeout=30,
        )
        names = {d.policyName for d in response.diagnostics}
        assert "storage-no-shared-key" in names
        assert RULES_BY_NAME["storage-no-shared-key"].description in next(
            d.message for d in response.diagnostics if d.policyName == "storage-no-shared-key"
        )
