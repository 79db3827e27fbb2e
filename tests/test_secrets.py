"""Deploy-time secrets are read from the environment and never shown."""

from __future__ import annotations

import pytest

from config.secrets import AppSecrets


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "hunter2-passphrase")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "very-secret-value")
    secrets = AppSecrets(_env_file=None)  # type: ignore[call-arg]
    assert secrets.pulumi_config_passphrase is not None
    assert secrets.pulumi_config_passphrase.get_secret_value() == "hunter2-passphrase"
    shown = repr(secrets) + str(secrets) + secrets.model_dump_json()
    assert "hunter2" not in shown
    assert "very-secret-value" not in shown


def test_env_file_is_read(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"  # type: ignore[operator]
    env_file.write_text(
        "ARM_CLIENT_ID=abc\nARM_TENANT_ID=def\nARM_SUBSCRIPTION_ID=ghi\nARM_USE_OIDC=true\n"
    )
    for name in (
        "ARM_CLIENT_ID",
        "ARM_TENANT_ID",
        "ARM_SUBSCRIPTION_ID",
        "ARM_USE_OIDC",
        "ARM_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    secrets = AppSecrets(_env_file=env_file)  # type: ignore[call-arg]
    assert secrets.arm_client_id == "abc"
    assert secrets.missing_for_deploy() == []


def test_missing_deploy_credentials_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ARM_CLIENT_ID",
        "ARM_TENANT_ID",
        "ARM_SUBSCRIPTION_ID",
        "ARM_USE_OIDC",
        "ARM_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    missing = AppSecrets(_env_file=None).missing_for_deploy()  # type: ignore[call-arg]
    assert "ARM_CLIENT_ID" in missing
    assert any(m.startswith("ARM_CLIENT_SECRET") for m in missing)
