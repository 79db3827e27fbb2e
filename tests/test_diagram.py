"""Architecture diagram: generated per stack by layer and subnet; README's copy is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import ENVIRONMENTS
from offline import diagram
from tests.conftest import stack_run


def test_readme_diagram_is_current() -> None:
    problem = diagram.readme_stale(stack_run(diagram.README_STACK))
    assert problem is None, problem


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_every_edge_joins_declared_nodes(stack: str) -> None:
    text = diagram.mermaid(stack_run(stack))
    assert text.startswith("flowchart LR\n")
    declared = set(re.findall(r"^\s*(\w+)\[", text, re.MULTILINE))
    declared |= set(re.findall(r"^\s*subgraph (\w+)\[", text, re.MULTILINE))
    edges = re.findall(r"^\s*(\w+) (?:-->|-\.->) (\w+)$", text, re.MULTILINE)
    assert edges
    for source, target in edges:
        assert source in declared and target in declared, (source, target)
    lines = [line.strip() for line in text.splitlines()]
    assert sum(line.startswith("subgraph ") for line in lines) == lines.count("end")
    assert diagram.mermaid(stack_run(stack)) == text  # stable


def test_prod_groups_by_layer_and_subnet() -> None:
    text = diagram.mermaid(stack_run("prod"))
    layers = ("core", "networking", "security", "database", "messaging", "etl", "audit", "redis")
    for layer in layers:
        assert f'subgraph layer_{layer}["{layer}"]' in text
    assert 'subgraph vnet["vnet-plat-prod-wus2 10.2.0.0/16"]' in text
    data = text.split('["snet-plat-data-prod-wus2 10.2.4.0/24"]', 1)[1].split("end", 1)[0]
    for endpoint in (
        "database_sql_pep",
        "etl_st_blob_pep",
        "audit_st_blob_pep",
        "security_kv_pep",
        "redis_cluster_pep",
    ):
        assert endpoint in data
    firewall = text.split('["AzureFirewallSubnet 10.2.6.0/26"]', 1)[1].split("end", 1)[0]
    assert "networking_firewall[" in firewall
    # Sub-resources are folded into their resource; grants come from the identity.
    assert "4 Queue" in text and "2 Topic" in text
    assert "security_id_workers -.-> messaging_sb" in text
    assert "database_sql_pep --> database_sql" in text
    assert not re.search(r"core_rg (-->|-\.->)|(-->|-\.->) core_rg", text)  # no RG edges


def test_stale_readme_names_the_command(tmp_path: Path) -> None:
    run = stack_run("prod")
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n"
        + diagram.BEGIN.format(stack="prod")
        + "\n```mermaid\nflowchart LR\n```\n"
        + diagram.END.format(stack="prod")
        + "\noutro\n"
    )
    assert diagram.readme_stale(run, readme) == (
        "README.md's prod diagram is stale: run `make readme-diagram` and commit README.md"
    )
    assert diagram.write_readme(run, readme) is True
    assert diagram.readme_stale(run, readme) is None
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n")
    assert diagram.write_readme(run, readme) is False


def test_readme_without_markers_says_what_to_add(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no diagram here\n")
    with pytest.raises(ValueError, match="no diagram markers for prod"):
        diagram.readme_stale(stack_run("prod"), readme)
