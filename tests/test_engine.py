"""The offline engine behaves like the real one where the program can tell, and checks inputs."""

from __future__ import annotations

import pulumi
import pulumi_random as random
from pulumi_azure_native import network, resources

from offline.engine import SUBSCRIPTION_ID, TENANT_ID, ProgramRun, run_program
from offline.sdk_types import check_resource_inputs


class _Holder(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("platform:test:Holder", name)
        self.register_outputs({})


def _run(program: object) -> ProgramRun:
    return run_program("dev", config={}, program=program)  # type: ignore[arg-type]


def test_misspelled_nested_property_is_an_error() -> None:
    def program() -> None:
        network.VirtualNetwork(
            "vnet",
            resource_group_name="rg",
            address_space={"addressPrefixes": ["10.0.0.0/16"]},
            subnets=[{"name": "app", "adressPrefix": "10.0.1.0/24"}],  # misspelled on purpose
        )

    run = _run(program)
    assert [p.path for p in run.problems] == ["subnets[0].adressPrefix"]
    assert "unknown property 'adressPrefix' for SubnetArgs" in run.problems[0].message


def test_missing_required_nested_property_is_an_error() -> None:
    problems = check_resource_inputs(
        "urn",
        "azure-native:keyvault:Vault",
        {
            "resourceGroupName": "rg",
            "properties": {"tenantId": TENANT_ID, "sku": {"name": "standard"}},
        },
    )
    assert [p.path for p in problems] == ["properties.sku.family"]


def test_missing_required_top_level_property_is_an_error() -> None:
    problems = check_resource_inputs("urn", "azure-native:network:VirtualNetwork", {})
    assert [p.path for p in problems] == ["resourceGroupName"]


def test_well_formed_inputs_pass() -> None:
    assert (
        check_resource_inputs(
            "urn",
            "azure-native:network:VirtualNetwork",
            {
                "resourceGroupName": "rg",
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "subnets": [
                    {
                        "name": "app",
                        "addressPrefix": "10.0.1.0/24",
                        "delegations": [{"name": "d", "serviceName": "Microsoft.App/environments"}],
                    }
                ],
            },
        )
        == []
    )


def test_inputs_arrive_camel_case_with_parents_in_urns_and_arm_ids() -> None:
    def program() -> None:
        holder = _Holder("holder")
        resources.ResourceGroup(
            "rg",
            resource_group_name="rg-x",
            location="westus2",
            opts=pulumi.ResourceOptions(parent=holder, protect=True),
        )

    run = _run(program)
    group = run.one("azure-native:resources:ResourceGroup")
    assert (
        group.urn
        == "urn:pulumi:dev::platform::platform:test:Holder$azure-native:resources:ResourceGroup::rg"
    )
    assert group.inputs == {"resourceGroupName": "rg-x", "location": "westus2"}
    assert group.id == f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-x"
    assert group.protect is True
    assert run.layer_of(group) == "holder"


def test_resources_without_an_azure_name_are_autonamed() -> None:
    def program() -> None:
        network.NetworkSecurityGroup("nsg-app", resource_group_name="rg")

    nsg = _run(program).one("azure-native:network:NetworkSecurityGroup")
    assert nsg.outputs["name"].startswith("nsg-app")
    assert nsg.outputs["name"] != "nsg-app"
    assert nsg.id is not None and nsg.id.endswith(f"/networkSecurityGroups/{nsg.outputs['name']}")


def test_client_config_invoke_is_answered() -> None:
    from pulumi_azure_native import authorization

    seen: dict[str, str] = {}

    def program() -> None:
        config = authorization.get_client_config_output()
        config.tenant_id.apply(lambda t: seen.setdefault("tenant", t))

    run = _run(program)
    assert run.error is None
    assert seen == {"tenant": TENANT_ID}
    assert run.invokes == ["azure-native:authorization:getClientConfig"]


def test_unanswered_invoke_fails_the_run_loudly() -> None:
    def program() -> None:
        network.get_virtual_network_output(resource_group_name="rg", virtual_network_name="v")

    run = _run(program)
    assert run.error is not None and "getVirtualNetwork" in run.error


def test_random_results_are_stable_per_stack() -> None:
    def program() -> None:
        random.RandomString("s", length=6, special=False, upper=False)

    first = _run(program).one("random:index/randomString:RandomString").outputs["result"]
    second = _run(program).one("random:index/randomString:RandomString").outputs["result"]
    assert first == second and len(first) == 6


def test_union_of_input_types_is_checked_against_the_closest_member() -> None:
    def inputs(rule_key: str) -> dict[str, object]:
        return {
            "firewallPolicyName": "p",
            "resourceGroupName": "rg",
            "ruleCollections": [
                {
                    "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "rules": [{"ruleType": "ApplicationRule", rule_key: ["api.gleif.org"]}],
                }
            ],
        }

    token = "azure-native:network:FirewallPolicyRuleCollectionGroup"
    assert check_resource_inputs("urn", token, inputs("targetFqdns")) == []
    problems = check_resource_inputs("urn", token, inputs("targetFqdn"))
    assert [p.path for p in problems] == ["ruleCollections[0].rules[0].targetFqdn"]
