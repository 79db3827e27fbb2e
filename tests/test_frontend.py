"""Frontend layer: the SPA's Static Web App; Front Door with the WAF, locked origin, domain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from config.settings import SettingsError, load_stack_settings
from infra.frontend.component import zone_of
from offline.engine import ProgramRun
from policies.offline import evaluate, from_recorded
from tests.conftest import stack_run

SITE = "azure-native:web:StaticSite"
PROFILE = "azure-native:cdn:Profile"
ENDPOINT = "azure-native:cdn:AFDEndpoint"
ORIGIN = "azure-native:cdn:AFDOrigin"
ROUTE = "azure-native:cdn:Route"
SECURITY_POLICY = "azure-native:cdn:SecurityPolicy"
WAF = "azure-native:frontdoor:Policy"
DOMAIN = "azure-native:cdn:AFDCustomDomain"
ZONE = "azure-native:dns:Zone"
RECORD = "azure-native:dns:RecordSet"
DIAG = "azure-native:monitor:DiagnosticSetting"
BASE = {"platform:location": "westus2", "platform:owner": "team", "platform:costCenter": "CC-1"}


def test_every_stack_has_one_static_web_app_without_a_repository(any_stack: ProgramRun) -> None:
    site = any_stack.one(SITE)
    assert site.inputs["name"] == f"stapp-plat-{_code(any_stack.stack)}-wus2"
    assert "repositoryUrl" not in site.inputs and "branch" not in site.inputs
    assert site.inputs["stagingEnvironmentPolicy"] == "Disabled"
    assert site.inputs["tags"]["layer"] == "frontend"
    assert any_stack.stack_outputs["static_web_app_name"] == site.inputs["name"]


@pytest.mark.parametrize(("stack", "sku"), [("dev", "Free"), ("qa", "Free")])
def test_no_front_door_where_the_cdn_is_off(stack: str, sku: str) -> None:
    run = stack_run(stack)
    assert run.one(SITE).inputs["sku"] == {"name": sku, "tier": sku}
    for kind in (PROFILE, ENDPOINT, ORIGIN, ROUTE, SECURITY_POLICY, WAF):
        assert run.by_type(kind) == [], kind
    outputs = run.stack_outputs
    assert "front_door_id" not in outputs
    assert outputs["spa_url"] == f"https://{run.one(SITE).outputs['defaultHostname']}"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_front_door_premium_fronts_a_standard_static_web_app(stack: str) -> None:
    run = stack_run(stack)
    site = run.one(SITE)
    assert site.inputs["sku"] == {"name": "Standard", "tier": "Standard"}
    profile = run.one(PROFILE)
    assert profile.inputs["sku"] == {"name": "Premium_AzureFrontDoor"}
    assert profile.inputs["location"] == "Global"
    origin = run.one(ORIGIN)
    assert origin.inputs["hostName"] == site.outputs["defaultHostname"]
    assert origin.inputs["originHostHeader"] == site.outputs["defaultHostname"]
    assert origin.inputs["enforceCertificateNameCheck"] is True
    assert any(d.inputs["resourceUri"] == profile.outputs["id"] for d in run.by_type(DIAG))


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_routes_are_https_only_and_cache_only_hashed_assets(stack: str) -> None:
    routes = {r.inputs["routeName"]: r.inputs for r in stack_run(stack).by_type(ROUTE)}
    assert set(routes) == {"spa", "assets"}
    for route in routes.values():
        assert route["forwardingProtocol"] == "HttpsOnly"
        assert route["httpsRedirect"] == "Enabled"
        assert route["supportedProtocols"] == ["Http", "Https"]
    assert "cacheConfiguration" not in routes["spa"]
    assert routes["spa"]["patternsToMatch"] == ["/*"]
    assert routes["assets"]["patternsToMatch"] == ["/assets/*"]
    cache = routes["assets"]["cacheConfiguration"]
    assert cache["queryStringCachingBehavior"] == "IgnoreQueryString"
    assert cache["compressionSettings"]["isCompressionEnabled"] is True
    assert "application/javascript" in cache["compressionSettings"]["contentTypesToCompress"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_security_policy_attaches_the_security_layers_waf_to_the_endpoint(stack: str) -> None:
    run = stack_run(stack)
    waf = run.one(WAF)
    assert waf.inputs["policySettings"]["mode"] == "Prevention"
    params = run.one(SECURITY_POLICY).inputs["parameters"]
    assert params["type"] == "WebApplicationFirewall"
    assert params["wafPolicy"]["id"] == waf.outputs["id"]
    domains = [d["id"] for d in params["associations"][0]["domains"]]
    assert domains == [run.one(ENDPOINT).outputs["id"]]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_app_is_locked_to_this_profiles_front_door_id(stack: str) -> None:
    run = stack_run(stack)
    outputs = run.stack_outputs
    fdid = run.one(PROFILE).outputs["frontDoorId"]
    host = run.one(ENDPOINT).outputs["hostName"]
    assert outputs["front_door_id"] == fdid
    assert outputs["static_web_app_forwarding_gateway"] == {
        "networking": {"allowedIpRanges": ["AzureFrontDoor.Backend"]},
        "forwardingGateway": {
            "requiredHeaders": {"X-Azure-FDID": fdid},
            "allowedForwardedHosts": [host],
        },
    }
    assert outputs["spa_url"] == f"https://{host}"


def _with_domain(run_with: Callable[..., ProgramRun], **extra: Any) -> ProgramRun:
    run = run_with("prod", **{"platform:customDomain": "trade.example.com", **extra})
    assert run.ok, (run.error, run.problems)
    return run


def test_custom_domain_gets_a_zone_cname_txt_and_managed_certificate(
    run_with: Callable[..., ProgramRun],
) -> None:
    run = _with_domain(run_with)
    zone = run.one(ZONE)
    assert zone.inputs["zoneName"] == "example.com"
    assert run.stack_outputs["dns_name_servers"] == zone.outputs["nameServers"]
    domain = run.one(DOMAIN)
    assert domain.inputs["hostName"] == "trade.example.com"
    assert domain.inputs["azureDnsZone"] == {"id": zone.outputs["id"]}
    assert domain.inputs["tlsSettings"] == {
        "certificateType": "ManagedCertificate",
        "minimumTlsVersion": "TLS12",
    }
    records = {r.inputs["recordType"]: r.inputs for r in run.by_type(RECORD)}
    token = domain.outputs["validationProperties"]["validationToken"]
    assert records["TXT"]["relativeRecordSetName"] == "_dnsauth.trade"
    assert records["TXT"]["txtRecords"] == [{"value": [token]}]
    assert records["CNAME"]["relativeRecordSetName"] == "trade"
    assert records["CNAME"]["cnameRecord"] == {"cname": run.one(ENDPOINT).outputs["hostName"]}
    for route in run.by_type(ROUTE):
        assert route.inputs["customDomains"] == [{"id": domain.outputs["id"]}]
    association = run.one(SECURITY_POLICY).inputs["parameters"]["associations"][0]
    assert {"id": domain.outputs["id"]} in association["domains"]
    gateway = run.stack_outputs["static_web_app_forwarding_gateway"]["forwardingGateway"]
    assert gateway["allowedForwardedHosts"][-1] == "trade.example.com"
    assert run.stack_outputs["spa_url"] == "https://trade.example.com"
    report = evaluate(from_recorded(run.resources.values()), "prod")
    assert report.mandatory_violations == []


def test_records_go_in_an_existing_zone_when_one_is_given(
    run_with: Callable[..., ProgramRun],
) -> None:
    zone = {"name": "trading.example.com", "resourceGroupName": "rg-dns-shared"}
    run = _with_domain(
        run_with,
        **{
            "platform:customDomain": "app.eu.trading.example.com",
            "platform:dnsZone": json.dumps(zone),
        },
    )
    assert run.by_type(ZONE) == []
    assert "dns_name_servers" not in run.stack_outputs
    for record in run.by_type(RECORD):
        assert record.inputs["zoneName"] == "trading.example.com"
        assert record.inputs["resourceGroupName"] == "rg-dns-shared"
    names = sorted(r.inputs["relativeRecordSetName"] for r in run.by_type(RECORD))
    assert names == ["_dnsauth.app.eu", "app.eu"]
    zone_id = run.one(DOMAIN).inputs["azureDnsZone"]["id"]
    assert zone_id.endswith(
        "/resourceGroups/rg-dns-shared/providers/Microsoft.Network/dnszones/trading.example.com"
    )


def test_zone_of_splits_the_parent_domain() -> None:
    assert zone_of("trade.example.com", None) == ("example.com", "trade")
    assert zone_of("a.b.example.co.uk", None) == ("b.example.co.uk", "a")


@pytest.mark.parametrize(
    ("config", "fragments"),
    [
        (
            {"platform:customDomain": "trade.example.com"},
            ["platform:customDomain = trade.example.com", "features.enableCdn = false"],
        ),
        (
            {
                "platform:customDomain": "trade.example.com",
                "platform:dnsZone": '{"name": "other.com", "resourceGroupName": "rg"}',
            },
            ["is not a name under platform:dnsZone = other.com"],
        ),
        (
            {"platform:dnsZone": '{"name": "example.com", "resourceGroupName": "rg"}'},
            ["platform:dnsZone = example.com without platform:customDomain"],
        ),
        (
            {"platform:overrides": '{"frontend": {"staticWebAppSku": "Gold"}}'},
            ["frontend.staticWebAppSku", "Free", "Standard"],
        ),
        (
            {"platform:location": "westus3"},
            ["platform:location = westus3", "Static Web Apps", "eastus2"],
        ),
        (
            {"platform:overrides": '{"frontend": {"cachedPathPatterns": []}}'},
            ["frontend.cachedPathPatterns"],
        ),
    ],
)
def test_settings_refuse_what_azure_or_dns_would(
    config: dict[str, str], fragments: list[str]
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("dev", {**BASE, **config})
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_front_door_needs_the_standard_plan() -> None:
    with pytest.raises(SettingsError) as caught:
        load_stack_settings(
            "prod", {**BASE, "platform:overrides": '{"frontend": {"staticWebAppSku": "Free"}}'}
        )
    assert "frontend.staticWebAppSku = Free with features.enableCdn = true" in str(caught.value)


def test_apex_custom_domain_is_refused() -> None:
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("prod", {**BASE, "platform:customDomain": "example.com"})
    assert "is an apex domain" in str(caught.value)


def test_another_region_may_host_the_app_when_named() -> None:
    settings = load_stack_settings(
        "dev",
        {
            **BASE,
            "platform:location": "westus3",
            "platform:overrides": '{"frontend": {"staticWebAppLocation": "westus2"}}',
        },
    )
    assert settings.env.frontend.static_web_app_location == "westus2"


def _code(stack: str) -> str:
    return {"dev": "dev", "qa": "qa", "staging": "stg", "prod": "prod"}[stack]
