"""Deploy-time secrets (state passphrase, CI service principal) from `.env` or the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppSecrets(BaseSettings):
    """Secrets the deployment tooling needs; never printed: `SecretStr` masks them in repr and logs.

    The infrastructure program itself needs none of these: Pulumi reads them from the
    environment. They are modelled here so CI and local runs fail early and clearly
    when one is missing, instead of half way through `pulumi up`.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    pulumi_config_passphrase: SecretStr | None = Field(
        default=None, alias="PULUMI_CONFIG_PASSPHRASE"
    )
    azure_storage_account: str | None = Field(default=None, alias="AZURE_STORAGE_ACCOUNT")
    arm_client_id: str | None = Field(default=None, alias="ARM_CLIENT_ID")
    arm_client_secret: SecretStr | None = Field(default=None, alias="ARM_CLIENT_SECRET")
    arm_tenant_id: str | None = Field(default=None, alias="ARM_TENANT_ID")
    arm_subscription_id: str | None = Field(default=None, alias="ARM_SUBSCRIPTION_ID")
    arm_use_oidc: bool = Field(default=False, alias="ARM_USE_OIDC")

    def missing_for_deploy(self) -> list[str]:
        """Names of the variables a non-interactive `pulumi up` still needs."""
        needed = {
            "ARM_CLIENT_ID": self.arm_client_id,
            "ARM_TENANT_ID": self.arm_tenant_id,
            "ARM_SUBSCRIPTION_ID": self.arm_subscription_id,
        }
        missing = [name for name, value in needed.items() if not value]
        if not self.arm_use_oidc and self.arm_client_secret is None:
            missing.append("ARM_CLIENT_SECRET (or ARM_USE_OIDC=true)")
        return missing


@lru_cache(maxsize=1)
def get_secrets() -> AppSecrets:
    """Cached so every caller sees one consistent read of the environment."""
    return AppSecrets()
