"""Gateway layer: API Management per tier, APIs from OpenAPI, products, policies, logs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from config.images import SERVICE_NAMES
from config.settings import get_environment_settings, load_stack_settings
from infra.gateway import PRODUCTS
from infra.gateway.component import APP_INSIGHTS_NAMED_VALUE, LEGACY_PROTOCOLS_OFF
from infra.gateway.openapi import load_document, operations, published_document
from infra.security.rbac import BuiltInRole
from offline import critical_path, plan
from offline.create_times import create_time
from offline.engine import ProgramRun, RecordedResource, load_stack_config, run_program
from policies.catalog import CATALOG_BY_TYPE
from tests.conftest import stack_run
from tests.gateway_program import BACKEND_URLS, gateway_run, program, run_gateway

APIM = "azure-native:apimanagement:ApiManagementService"
API = "azure-native:apimanagement:Api"
API_POLICY = "azure-native:apimanagement:ApiPolicy"
BACKEND = "azure-native:apimanagement:Backend"
NAMED_VALUE = "azure-native:apimanagement:NamedValue"
LOGGER = "azure-native:apimanagement:Logger"
DIAGNOSTIC = "azure-native:apimanagement:Diagnostic"
POLICY = "azure-native:apimanagement:Policy"
PRODUCT = "azure-native:apimanagement:Product"
PRODUCT_API = "azure-native:apimanagement:ProductApi"
PRODUCT_POLICY = "azure-native:apimanagement:ProductPolicy"
PIP = "azure-native:network:PublicIPAddress"
SUBNET = "azure-native:network:Subnet"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE = "azure-native:authorization:RoleAssignment"
SECRET = "azure-native:keyvault:Secret"
DIAG = "azure-native:monitor:DiagnosticSetting"
LOG_ALERT = "azure-native:monitor:ScheduledQueryRule"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
GATEWAY_STACKS = ("dev", "staging", "prod")


def _xml(resource: RecordedResource) -> ET.Element:
    return ET.fromstring(resource.inputs["value"])  # noqa: S314 - the program's own output


def _gateway_identity(run: ProgramRun) -> RecordedResource:
    (identity,) = [i for i in run.by_type(IDENTITY) if i.inputs["tags"]["workload"] == "gateway"]
    return identity


def _by_name(run: ProgramRun, type_: str, name: str) -> RecordedResource:
    (found,) = [r for r in run.by_type(type_) if r.name == name]
    return found


def _mandatory(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Mandatory violations, but for the stack's missing audit account: the gateway program
    is part of a stack, without the audit layer the whole program has (and is checked for,
    tests/test_policies_paths.py)."""
    return [
        v
        for v in summary["policy"]["mandatory"]
        if not (v["rule"] == "audit-store-immutable" and v["urn"] is None)
    ]


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_the_layer_runs_clean_with_no_mandatory_violation(stack: str) -> None:
    run = gateway_run(stack)
    assert run.ok, (run.error, run.problems)
    summary = plan.summarize(run)
    assert summary["hazards"] == []
    assert summary["change_hazards"] == []
    assert _mandatory(summary) == [], summary["policy"]["text"]
    assert summary["policy"]["undecided"] == 0
    assert summary["policy"]["stale_exemptions"] == []


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_every_gateway_type_has_a_catalog_entry_a_create_time_and_a_price(stack: str) -> None:
    run = gateway_run(stack)
    gateway_types = {r.kind for r in run.resources.values() if r.custom and "gateway" in r.urn}
    assert {APIM, API, BACKEND, PRODUCT_POLICY, LOGGER, DIAGNOSTIC} <= gateway_types
    assert sorted(t for t in gateway_types if t not in CATALOG_BY_TYPE) == []
    for type_ in gateway_types:
        create_time(type_, None)
    cost = plan.summarize(run)["cost"]
    assert cost["unpriced"] == {}
    assert any(item["name"] == "gateway-apim" for item in cost["by_resource"])


def test_classic_developer_is_injected_external_with_an_stv2_public_ip() -> None:
    run = gateway_run("dev")
    apim = run.one(APIM)
    subnet = _by_name(run, SUBNET, "networking-snet-gateway")
    pip = _by_name(run, PIP, "gateway-pip")
    assert apim.inputs["sku"] == {"name": "Developer", "capacity": 1}
    assert apim.inputs["virtualNetworkType"] == "External"
    assert apim.inputs["virtualNetworkConfiguration"] == {"subnetResourceId": subnet.outputs["id"]}
    assert apim.inputs["publicIpAddressId"] == pip.outputs["id"]
    assert pip.inputs["sku"] == {"name": "Standard", "tier": "Regional"}
    assert pip.inputs["publicIPAllocationMethod"] == "Static"
    assert pip.inputs["dnsSettings"]["domainNameLabel"] == apim.inputs["serviceName"].lower()
    assert apim.inputs["customProperties"] == LEGACY_PROTOCOLS_OFF
    # Injection needs an undelegated subnet.
    assert not subnet.inputs.get("delegations")


def test_standard_v2_integrates_outbound_through_a_server_farms_subnet() -> None:
    run = gateway_run("prod")
    apim = run.one(APIM)
    subnet = _by_name(run, SUBNET, "networking-snet-gateway")
    assert apim.inputs["sku"] == {"name": "StandardV2", "capacity": 1}
    assert apim.inputs["virtualNetworkType"] == "External"
    assert apim.inputs["virtualNetworkConfiguration"] == {"subnetResourceId": subnet.outputs["id"]}
    assert "publicIpAddressId" not in apim.inputs
    assert not [p for p in run.by_type(PIP) if p.name == "gateway-pip"]
    assert "customProperties" not in apim.inputs
    delegations = subnet.inputs["delegations"]
    assert [d["serviceName"] for d in delegations] == ["Microsoft.Web/serverFarms"]


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_the_service_runs_as_the_gateway_identity_with_publisher_from_settings(stack: str) -> None:
    run = gateway_run(stack)
    apim = run.one(APIM)
    identity = _gateway_identity(run)
    assert apim.inputs["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": {identity.outputs["id"]: {}},
    }
    settings = load_stack_settings(stack, load_stack_config(stack)[0])
    assert apim.inputs["publisherName"] == settings.env.gateway.publisher_name
    assert apim.inputs["publisherEmail"] == settings.deployment.alert_emails[0]
    assert apim.inputs["serviceName"].startswith("apim-plat-")


def test_the_connection_string_is_a_key_vault_named_value_read_after_the_grant() -> None:
    run = gateway_run("dev")
    named = run.one(NAMED_VALUE)
    identity = _gateway_identity(run)
    secret = run.one(SECRET)
    assert named.inputs["namedValueId"] == APP_INSIGHTS_NAMED_VALUE
    assert named.inputs["secret"] is True
    assert "value" not in named.inputs
    assert named.inputs["keyVault"]["identityClientId"] == identity.outputs["clientId"]
    assert named.inputs["keyVault"]["secretIdentifier"].endswith(
        "/secrets/appinsights-connection-string"
    )
    (grant,) = [
        r
        for r in run.by_type(ROLE)
        if r.inputs["roleDefinitionId"].endswith(BuiltInRole.KEY_VAULT_SECRETS_USER.value)
    ]
    assert grant.inputs["scope"] == secret.id
    assert grant.inputs["principalId"] == identity.outputs["principalId"]
    # The named value waits for the grant: Azure reads the secret when it is created.
    assert grant.urn in critical_path.dependency_graph(run)[named.urn]


def test_the_logger_authenticates_with_the_identity_and_diagnostics_follow_it() -> None:
    run = gateway_run("prod")
    logger = run.one(LOGGER)
    identity = _gateway_identity(run)
    appi = run.one("azure-native:applicationinsights:Component")
    assert logger.inputs["loggerType"] == "applicationInsights"
    assert logger.inputs["resourceId"] == appi.outputs["id"]
    assert logger.inputs["credentials"] == {
        "connectionString": "{{" + APP_INSIGHTS_NAMED_VALUE + "}}",
        "identityClientId": identity.outputs["clientId"],
    }
    named = run.one(NAMED_VALUE)
    assert named.urn in logger.dependencies
    diagnostic = run.one(DIAGNOSTIC)
    assert diagnostic.inputs["loggerId"] == logger.outputs["id"]
    assert diagnostic.inputs["logClientIp"] is False
    assert diagnostic.inputs["sampling"] == {"samplingType": "fixed", "percentage": 25.0}


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_gateway_logs_go_to_dedicated_tables_and_the_alerts_use_settings(stack: str) -> None:
    run = gateway_run(stack)
    apim = run.one(APIM)
    thresholds = get_environment_settings(stack).monitoring.alerts
    (diag,) = [d for d in run.by_type(DIAG) if d.inputs["resourceUri"] == apim.outputs["id"]]
    assert diag.inputs["logAnalyticsDestinationType"] == "Dedicated"
    five_xx = _by_name(run, LOG_ALERT, "gateway-alert-5xx-percent")
    assert apim.outputs["id"] in five_xx.inputs["criteria"]["allOf"][0]["query"]
    assert five_xx.inputs["criteria"]["allOf"][0]["threshold"] == thresholds.gateway_5xx_percent
    latency = _by_name(run, METRIC_ALERT, "gateway-alert-latency")
    assert latency.inputs["scopes"] == [apim.outputs["id"]]
    assert latency.inputs["criteria"]["allOf"][0]["threshold"] == thresholds.gateway_latency_ms


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_one_api_per_service_from_its_openapi_without_internal_routes(service: str) -> None:
    run = gateway_run("dev")
    api = _by_name(run, API, f"gateway-api-{service}")
    assert api.inputs["path"] == service
    assert api.inputs["format"] == "openapi+json"
    assert api.inputs["protocols"] == ["https"]
    assert api.inputs["subscriptionRequired"] is True
    assert api.inputs["subscriptionKeyParameterNames"]["header"] == "Ocp-Apim-Subscription-Key"
    document = json.loads(api.inputs["value"])
    published = operations(document)
    assert published == operations(published_document(load_document(service)))
    assert published, "the service publishes operations"
    for _, path in published:
        assert not path.startswith(("/internal", "/health"))
    headers = {
        p["name"]
        for item in document["paths"].values()
        for operation in item.values()
        for p in operation.get("parameters", [])
        if p["in"] == "header"
    }
    assert not headers & {"X-Caller-Id", "X-Caller-Roles"}
    backend = _by_name(run, BACKEND, f"gateway-backend-{service}")
    assert backend.inputs["url"] == BACKEND_URLS[service]
    assert backend.inputs["tls"] == {
        "validateCertificateChain": True,
        "validateCertificateName": True,
    }
    policy = _by_name(run, API_POLICY, f"gateway-api-{service}-policy")
    root = _xml(policy)
    (target,) = root.iter("set-backend-service")
    assert target.get("backend-id") == backend.inputs["backendId"] == service
    assert backend.urn in policy.dependencies


def test_products_are_closed_and_hold_their_apis() -> None:
    run = gateway_run("dev")
    products = {p.inputs["productId"]: p for p in run.by_type(PRODUCT)}
    assert sorted(products) == ["reference-data", "trading"]
    for product in products.values():
        assert product.inputs["subscriptionRequired"] is True
        assert product.inputs["approvalRequired"] is True
        assert product.inputs["state"] == "published"
    links = {(link.inputs["productId"], link.inputs["apiId"]) for link in run.by_type(PRODUCT_API)}
    assert links == {
        ("reference-data", "products"),
        ("trading", "orders"),
        ("trading", "payments"),
        ("trading", "users"),
    }
    assert {spec.id for spec in PRODUCTS} == set(products)


# --- rendered policies, per environment ------------------------------------------------------


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_product_policies_limit_each_subscription_from_settings(stack: str) -> None:
    run = gateway_run(stack)
    gateway = get_environment_settings(stack).gateway
    keyed = stack != "prod"  # classic Developer has quota-by-key; Standard v2 has quota only
    for spec in PRODUCTS:
        limits = getattr(gateway, spec.limits_field)
        root = _xml(_by_name(run, PRODUCT_POLICY, f"gateway-product-{spec.id}-policy"))
        (rate,) = root.iter("rate-limit-by-key")
        assert rate.attrib == {
            "calls": str(limits.rate_limit_calls),
            "renewal-period": str(limits.rate_limit_period_seconds),
            "counter-key": "@(context.Subscription.Id)",
        }
        quotas = list(root.iter("quota-by-key" if keyed else "quota"))
        assert len(quotas) == 1
        assert quotas[0].get("calls") == str(limits.quota_calls)
        assert quotas[0].get("renewal-period") == str(limits.quota_period_seconds)
        assert list(root.iter("quota" if keyed else "quota-by-key")) == []
        guards = [w.get("condition", "") for w in root.iter("when")]
        if spec.read_only:
            assert any('context.Request.Method != "GET"' in g for g in guards)
        if spec.guards:
            assert any('context.Api.Path == "users"' in g and "/v1/me" in g for g in guards)


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_api_policies_authenticate_through_users_api_and_cache_the_verdict(stack: str) -> None:
    run = gateway_run(stack)
    seconds = str(get_environment_settings(stack).gateway.verdict_cache_seconds)
    for service in SERVICE_NAMES:
        root = _xml(_by_name(run, API_POLICY, f"gateway-api-{service}-policy"))
        (request,) = root.iter("send-request")
        assert request.findtext("set-url") == BACKEND_URLS["users"] + "/internal/v1/authenticate"
        assert request.findtext("set-method") == "POST"
        (store,) = root.iter("cache-store-value")
        assert store.get("duration") == seconds
        (lookup,) = root.iter("cache-lookup-value")
        assert (
            lookup.get("key") == store.get("key") == '@((string)context.Variables["verdict-key"])'
        )
        (key,) = [v for v in root.iter("set-variable") if v.get("name") == "verdict-key"]
        assert "SHA256" in key.get("value", "")
        assert "Password" not in key.get("value", "")
        statuses = {s.get("code") for s in root.iter("set-status")}
        assert {"401", "403", "503"} <= statuses
        challenges = [
            h.findtext("value")
            for h in root.iter("set-header")
            if h.get("name") == "WWW-Authenticate"
        ]
        assert challenges and set(challenges) == {'Basic realm="platform"'}
        actions = [
            (h.get("name"), h.get("exists-action"))
            for h in root.iter("set-header")
            if h.get("name") in {"X-Caller-Id", "X-Caller-Roles", "Authorization"}
        ]
        assert actions[:2] == [("X-Caller-Id", "delete"), ("X-Caller-Roles", "delete")]
        assert ("X-Caller-Id", "override") in actions[2:]
        assert ("X-Caller-Roles", "override") in actions[2:]
        assert ("Authorization", "delete") in actions


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_only_product_lookups_are_cached_by_query_roles_and_etag(stack: str) -> None:
    run = gateway_run(stack)
    seconds = str(get_environment_settings(stack).gateway.lookup_cache_seconds)
    for service in SERVICE_NAMES:
        root = _xml(_by_name(run, API_POLICY, f"gateway-api-{service}-policy"))
        lookups = list(root.iter("cache-lookup"))
        if service != "products":
            assert lookups == []
            continue
        (lookup,) = lookups
        headers = [h.text for h in lookup.iter("vary-by-header")]
        assert {"X-Caller-Roles", "If-None-Match"} <= set(headers)
        queries = {q.text for q in lookup.iter("vary-by-query-parameter")}
        assert {"q", "cfi_category", "venue", "status", "limit", "offset"} <= queries
        assert lookup.get("allow-private-response-caching") == "true"
        (store,) = root.iter("cache-store")
        assert store.get("duration") == seconds
        # The cache is consulted only once the caller's roles are the gateway's own.
        inbound = list(root.find("inbound") or [])
        names = [(e.tag, e.get("name"), e.get("exists-action")) for e in inbound]
        assert names.index(("set-header", "X-Caller-Roles", "override")) < names.index(
            ("cache-lookup", None, None)
        )


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_the_global_policy_filters_ips_sets_correlation_and_answers_problems(stack: str) -> None:
    run = gateway_run(stack)
    root = _xml(run.one(POLICY))
    settings = load_stack_settings(stack, load_stack_config(stack)[0])
    ranges = settings.deployment.allowed_ip_ranges
    filters = list(root.iter("ip-filter"))
    if ranges:
        (ip_filter,) = filters
        assert ip_filter.get("action") == "allow"
        assert len(list(ip_filter)) == len(ranges)
    else:
        assert filters == [], "no ranges, no ip-filter"
    (correlation,) = [h for h in root.find("inbound") or [] if h.get("name") == "X-Correlation-Id"]
    assert correlation.get("exists-action") == "skip"
    assert correlation.findtext("value") == "@(context.RequestId.ToString())"
    on_error = root.find("on-error")
    assert on_error is not None
    content_types = [h.findtext("value") for h in on_error.iter("set-header")]
    assert "application/problem+json" in content_types
    assert 'JProperty("status"' in (on_error.findtext("set-body") or "")
    assert list(root.iter("cors")) == [], "no frontend origin set: no CORS"


def test_prod_ip_filter_admits_exactly_the_stack_ranges() -> None:
    root = _xml(gateway_run("prod").one(POLICY))
    (ip_filter,) = root.iter("ip-filter")
    assert [(e.tag, e.attrib) for e in ip_filter] == [
        ("address-range", {"from": "203.0.113.0", "to": "203.0.113.255"}),
        ("address-range", {"from": "198.51.100.0", "to": "198.51.100.255"}),
    ]


def test_cors_admits_the_frontend_origin_only() -> None:
    origin = "https://app.example.com"
    run = run_gateway(
        "staging", **{"platform:overrides": json.dumps({"gateway": {"frontendOrigin": origin}})}
    )
    assert run.ok, (run.error, run.problems)
    root = _xml(run.one(POLICY))
    (cors,) = root.iter("cors")
    assert [o.text for o in cors.iter("origin")] == [origin]
    assert cors.get("allow-credentials") == "false"
    headers = {h.text for h in cors.find("allowed-headers") or []}
    assert {"Authorization", "Ocp-Apim-Subscription-Key", "X-Correlation-Id"} <= headers
    assert "*" not in headers
    assert _mandatory(plan.summarize(run)) == []


def test_a_missing_backend_url_is_refused_by_name() -> None:
    def partial() -> None:
        from tests import gateway_program

        urls = dict(gateway_program.BACKEND_URLS)
        del urls["payments"]
        original = gateway_program.BACKEND_URLS
        gateway_program.BACKEND_URLS = urls
        try:
            program()
        finally:
            gateway_program.BACKEND_URLS = original

    run = run_program("dev", program=partial)
    assert run.error is not None
    assert "no backend URL for payments" in run.error


# --- deploy time -----------------------------------------------------------------------------


def test_classic_developer_stays_off_the_other_layers_critical_path() -> None:
    run = gateway_run("dev")
    graph = critical_path.dependency_graph(run)
    apim = run.one(APIM)
    waits_for = {run.resources[urn].name for urn in graph[apim.urn]}
    # The service starts as soon as its subnet, identity and public IP exist ...
    allowed = {"networking-snet-gateway", "security-id-gateway", "gateway-pip", "core-rg"}
    assert waits_for <= allowed | {"core-suffix"}
    # ... and nothing outside the gateway layer waits for it.
    later = [r for r in run.resources.values() if r.custom and apim.urn in graph.get(r.urn, set())]
    assert later and all(run.layer_of(r) == "gateway" for r in later)
    path = critical_path.critical_path(run)
    assert path.minutes < 45
    start = next(s for s in path.steps if s.type == APIM).start
    assert start < 2


# --- the program -----------------------------------------------------------------------------


def _program_has_gateway(run: ProgramRun) -> bool:
    return bool(run.by_type(APIM))


def test_qa_deploys_no_gateway(any_stack: ProgramRun) -> None:
    if any_stack.stack == "qa":
        assert not _program_has_gateway(any_stack)
        assert not any_stack.by_type(SECRET)


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_the_program_deploys_the_gateway_once_wired(stack: str) -> None:
    run = stack_run(stack)
    if not _program_has_gateway(run):
        pytest.skip(
            "__main__.py has no microservices layer yet: deploy_gateway(backend_urls=None) "
            "until the lead points it at microservices.urls"
        )
    assert run.ok, (run.error, run.problems)
    summary = plan.summarize(run)
    assert summary["policy"]["mandatory"] == []
    assert "gateway_url" in run.stack_outputs
    assert len(run.by_type(API)) == len(SERVICE_NAMES)


def test_a_stack_with_the_gateway_and_no_publisher_e_mail_stops_before_any_resource(
    run_with: Callable[..., ProgramRun],
) -> None:
    run = run_with("dev", drop=("platform:alertEmails",))
    assert run.error is not None
    assert "API Management needs a publisher e-mail" in run.error
    assert "platform:overrides.gateway.publisherEmail" in run.error
    assert run.resources == {} or not any(r.custom for r in run.resources.values())
    qa = run_with("qa", drop=("platform:alertEmails",))
    assert qa.error is None


def test_where_the_vault_is_public_the_gateway_reaches_it_by_service_endpoint() -> None:
    # A user-assigned identity is not admitted by the trusted-services exception, so the
    # gateway subnet comes in by a Key Vault service endpoint and the vault's VNet rule.
    run = stack_run("dev")
    subnet = _by_name(run, SUBNET, "networking-snet-gateway")
    assert [e["service"] for e in subnet.inputs["serviceEndpoints"]] == ["Microsoft.KeyVault"]
    vault = run.one("azure-native:keyvault:Vault")
    rules = vault.inputs["properties"]["networkAcls"]["virtualNetworkRules"]
    assert rules == [{"id": subnet.outputs["id"]}]
    for stack in ("qa", "staging"):
        other = stack_run(stack)
        vault = other.one("azure-native:keyvault:Vault")
        assert "virtualNetworkRules" not in vault.inputs["properties"]["networkAcls"]
        gateway_subnet = _by_name(other, SUBNET, "networking-snet-gateway")
        assert not gateway_subnet.inputs.get("serviceEndpoints")


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_stacks_gateway_admits_the_spa_origin_alone(stack: str) -> None:
    """The composition root hands the frontend's URL to the gateway: CORS admits that one
    origin (Front Door's endpoint in staging and prod, the Static Web App's host in dev)."""
    run = stack_run(stack)
    (cors,) = _xml(run.one(POLICY)).iter("cors")
    assert [o.text for o in cors.iter("origin")] == [run.stack_outputs["spa_url"]]
    assert str(run.stack_outputs["spa_url"]).startswith("https://")
