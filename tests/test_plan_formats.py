"""Plan output forms: text, JSON (and its --json alias), Markdown for CI; diff markers."""

from __future__ import annotations

import json

import pytest

from offline import plan


def test_format_json_and_the_json_alias_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["qa", "--format", "json"]) == 0
    formatted = json.loads(capsys.readouterr().out)
    assert plan.main(["qa", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == formatted
    assert formatted["cost"]["total_usd"] > 0
    assert formatted["cost"]["unpriced"] == {}
    assert formatted["critical_path"]["minutes"] > 0


def test_markdown_is_the_ci_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["prod", "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("## Offline plan: `prod` (prod) passes")
    for heading in (
        "### Resources by layer",
        "### Settings",
        "### Policy report",
        "### Monthly cost",
        "### First-deploy critical path",
    ):
        assert heading in text
    assert "| networking | `azure-native:network:AzureFirewall` | 1 |" in text
    assert "| enableRedis | on |" in text
    assert "of a $10,000 budget" in text


def test_text_shows_cost_and_critical_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["staging"]) == 0
    text = capsys.readouterr().out
    assert "Monthly cost estimate (staging): $" in text
    assert "First-deploy critical path (staging): " in text


def test_diff_marks_added_removed_and_changed(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["prod", "--diff", "staging"]) == 0
    text = capsys.readouterr().out
    assert "  - azure-native:network:AzureFirewall networking-firewall" in text
    assert "  ~ network.enableFirewall: true -> false" in text
    assert plan.main(["staging", "--diff", "prod", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "```diff" in markdown
    assert "  + azure-native:network:AzureFirewall networking-firewall" in markdown


def test_unknown_format_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        plan.main(["dev", "--format", "yaml"])
    assert "invalid choice: 'yaml'" in capsys.readouterr().err
