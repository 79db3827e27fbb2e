"""The gateway contract (services/gateway/contract.json) against API Management's policies.

The local gateway runs each case as a request; here each case's `rule` is checked against
the rendered policy documents and API settings of a stack with the gateway, so both gateways
answer the same contract.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from infra.gateway.openapi import SERVICES_DIR
from offline.engine import ProgramRun
from tests.gateway_program import gateway_run

CONTRACT = SERVICES_DIR / "gateway" / "contract.json"


def _contract(path: Path = CONTRACT) -> dict[str, Any]:
    if not path.exists():
        pytest.skip(f"{path} is not in this tree (the local gateway's branch writes it)")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _cases() -> list[dict[str, Any]]:
    if not CONTRACT.exists():
        return []
    cases: list[dict[str, Any]] = json.loads(CONTRACT.read_text(encoding="utf-8"))["cases"]
    return cases


def _xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - rendered by this repository


@cache
def _policies(stack: str = "dev") -> dict[str, Any]:
    run: ProgramRun = gateway_run(stack)
    by_name = {r.name: r for r in run.resources.values()}
    apis = {r.inputs["path"]: r for r in run.by_type("azure-native:apimanagement:Api")}
    return {
        "global": _xml(run.one("azure-native:apimanagement:Policy").inputs["value"]),
        "apis": apis,
        "api_policies": {
            path: _xml(by_name[f"gateway-api-{path}-policy"].inputs["value"]) for path in apis
        },
        "products": [
            _xml(r.inputs["value"]) for r in run.by_type("azure-native:apimanagement:ProductPolicy")
        ],
    }


def _headers(root: ET.Element, name: str) -> list[ET.Element]:
    return [h for h in root.iter("set-header") if h.get("name", "").lower() == name.lower()]


def _subscription_key(contract: dict[str, Any], case: dict[str, Any]) -> None:
    names = contract["headers"]
    for path, api in _policies()["apis"].items():
        assert api.inputs["subscriptionRequired"] is True
        assert api.inputs["subscriptionKeyParameterNames"] == {
            "header": names["subscription_key"],
            "query": names["subscription_key_query"],
        }
        policy = _policies()["api_policies"][path]
        assert any(
            h.get("exists-action") == "delete" for h in _headers(policy, names["subscription_key"])
        )
        queries = [
            q for q in policy.iter("set-query-parameter") if q.get("exists-action") == "delete"
        ]
        assert [q.get("name") for q in queries] == [names["subscription_key_query"]]
    if case["expect"].get("status") == 401:
        # APIM refuses a missing or unknown key itself; the global on-error makes it a problem.
        assert "application/problem+json" in ET.tostring(_policies()["global"], encoding="unicode")


def _basic_auth(contract: dict[str, Any], case: dict[str, Any]) -> None:
    authenticate = contract["authenticate"]
    expected = case["expect"]
    for policy in _policies()["api_policies"].values():
        (request,) = policy.iter("send-request")
        url = request.findtext("set-url") or ""
        assert url.endswith(authenticate["path"])
        assert request.findtext("set-method") == authenticate["method"]
        body = request.findtext("set-body") or ""
        for field in authenticate["request_body"]:
            assert f'JProperty("{field}"' in body
        assert "AsBasic()" in ET.tostring(policy, encoding="unicode")
        responses = {
            s.get("code"): rr
            for rr in policy.iter("return-response")
            for s in rr.iter("set-status")
        }
        assert str(expected["status"]) in responses
        for header, value in (expected.get("headers") or {}).items():
            found = [
                h.findtext("value") for h in _headers(responses[str(expected["status"])], header)
            ]
            assert value in found, (header, found)
        if expected["status"] == 403:
            conditions = [w.get("condition", "") for w in policy.iter("when")]
            assert any('Value<bool>("active")' in c for c in conditions)


def _caller_headers(contract: dict[str, Any], case: dict[str, Any]) -> None:
    names = contract["headers"]
    upstream = case["expect"].get("upstream") or {}
    for policy in _policies()["api_policies"].values():
        for header in (names["caller_id"], names["caller_roles"]):
            actions = [h.get("exists-action") for h in _headers(policy, header)]
            assert actions[0] == "delete" and "override" in actions[1:], (header, actions)
        (roles,) = [
            h
            for h in _headers(policy, names["caller_roles"])
            if h.get("exists-action") == "override"
        ]
        assert 'string.Join(","' in (roles.findtext("value") or "")
        for absent in upstream.get("headers_absent", []):
            assert any(h.get("exists-action") == "delete" for h in _headers(policy, absent)), absent


def _routing(contract: dict[str, Any], case: dict[str, Any]) -> None:
    prefix = case["request"]["path"].lstrip("/").split("/", 1)[0]
    apis = _policies()["apis"]
    if case["expect"]["status"] == 404:
        assert prefix not in apis
        assert "application/problem+json" in ET.tostring(_policies()["global"], encoding="unicode")
        return
    assert prefix in apis
    (backend,) = _policies()["api_policies"][prefix].iter("set-backend-service")
    assert backend.get("backend-id") == prefix


def _rate_limit(contract: dict[str, Any], case: dict[str, Any]) -> None:
    for product in _policies()["products"]:
        (limit,) = product.iter("rate-limit-by-key")
        assert limit.get("counter-key") == "@(context.Subscription.Id)"
    on_error = _policies()["global"].find("on-error")
    assert on_error is not None
    assert any(
        h.findtext("value") == "application/problem+json" for h in on_error.iter("set-header")
    )


def _correlation_id(contract: dict[str, Any], case: dict[str, Any]) -> None:
    header = contract["headers"]["correlation_id"]
    root = _policies()["global"]
    inbound, outbound = root.find("inbound"), root.find("outbound")
    assert inbound is not None and outbound is not None
    (generate,) = [h for h in inbound if h.tag == "set-header" and h.get("name") == header]
    assert generate.get("exists-action") == "skip"
    assert "context.RequestId" in (generate.findtext("value") or "")
    assert _headers(outbound, header), "echoed to the client"
    for policy in [*_policies()["api_policies"].values(), *_policies()["products"]]:
        for refusal in policy.iter("return-response"):
            assert _headers(refusal, header), "refusals carry the correlation id"


def _backend_errors(contract: dict[str, Any], case: dict[str, Any]) -> None:
    on_error = _policies()["global"].find("on-error")
    assert on_error is not None
    text = ET.tostring(on_error, encoding="unicode")
    assert str(case["expect"]["status"]) in {s.get("code") for s in on_error.iter("set-status")}
    assert "forward-request" in text


RULES: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "subscription-key": _subscription_key,
    "basic-auth": _basic_auth,
    "caller-headers": _caller_headers,
    "routing": _routing,
    "rate-limit": _rate_limit,
    "correlation-id": _correlation_id,
    "backend-errors": _backend_errors,
}


def test_every_rule_the_contract_names_is_checked_here() -> None:
    contract = _contract()
    assert sorted({c["rule"] for c in contract["cases"]} - set(RULES)) == []


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c.get("name", c.get("rule"))))
def test_the_rendered_policies_cover_the_case(case: dict[str, Any]) -> None:
    contract = _contract()
    assert case["rule"] in RULES, f"no check for rule {case['rule']!r}"
    assert contract["realm"] == "platform"
    RULES[case["rule"]](contract, case)
