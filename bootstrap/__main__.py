"""Bootstrap: the state backend and secrets-provider key every platform stack uses."""

import sys
from pathlib import Path

# The CLI runs this directory's __main__.py; the repository root holds the shared modules.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
from pulumi_azure_native import authorization

from bootstrap.settings import load_bootstrap_settings
from bootstrap.state_backend import StateBackend, StateBackendArgs
from config.settings import SettingsError


def main() -> None:
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    try:
        settings = load_bootstrap_settings(values)
    except SettingsError as error:
        raise pulumi.RunError(str(error)) from None
    client = authorization.get_client_config_output()
    backend = StateBackend(
        "state",
        StateBackendArgs(
            settings=settings,
            tenant_id=client.tenant_id,
            subscription_id=client.subscription_id,
            deployer_object_ids=list(settings.deployer_object_ids) or [client.object_id],
        ),
    )
    pulumi.export("state_account_name", backend.account_name)
    pulumi.export("backend_urls", settings.backend_urls)
    pulumi.export("secrets_provider", settings.secrets_provider)
    pulumi.export("key_vault_uri", backend.key_vault_uri)


main()
