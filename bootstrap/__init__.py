"""Bootstrap program: state storage account and secrets-provider key for the platform stacks."""
