"""Create the workloads' contained database users after `pulumi up` (ARM cannot).

    pulumi stack output --json --stack prod > outputs.json
    python -m scripts.grant_database_access outputs.json            # runs the grants
    python -m scripts.grant_database_access outputs.json --print    # shows the T-SQL only

Runs as the SQL server's Microsoft Entra admin (the pipeline's identity, or a member of the
admin group) from a runner that can reach the server (inside the VNet where the server has
only a private endpoint). It needs `requirements-deploy.txt` (mssql-python, whose ODBC layer
is bundled: no Microsoft apt repository on the runner).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.database.grants import grant_statements, users_from_outputs

SQL_PORT = 1433
# mssql-python's login timeout (connect(timeout=...)); its connection-string keywords are an
# allow-list without "Connection Timeout".
LOGIN_TIMEOUT_SECONDS = 30
REQUIRED_OUTPUTS = ("sql_server_fqdn", "sql_database_name", "database_identities")


def load_outputs(path: Path) -> dict[str, Any]:
    """The stack outputs the grant step needs, with a clear error when one is missing."""
    try:
        outputs = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"cannot read stack outputs from {path}: {exc}") from exc
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise SystemExit(
            f"{path} lacks stack output(s) {', '.join(missing)}; expected the JSON of "
            "`pulumi stack output --json` for a stack with the SQL database enabled"
        )
    return dict(outputs)


def connection_string(server: str, database: str, port: int = SQL_PORT) -> str:
    """mssql-python connection string for the pipeline's own Entra identity.

    `ActiveDirectoryDefault` makes the driver use azure-identity's DefaultAzureCredential,
    which picks up the runner's `az login` (OIDC federated credential) or its managed
    identity: https://learn.microsoft.com/sql/connect/python/mssql-python/entra-authentication
    """
    return (
        f"Server=tcp:{server},{port};Database={database};"
        "Authentication=ActiveDirectoryDefault;Encrypt=yes;TrustServerCertificate=no"
    )


def execute(
    server: str,
    database: str,
    statements: Sequence[str],
    *,
    port: int = SQL_PORT,
    timeout: int = LOGIN_TIMEOUT_SECONDS,
) -> None:
    """Run the statements in one transaction, authenticated with an Entra token."""
    import mssql_python

    connection = mssql_python.connect(connection_string(server, database, port), timeout=timeout)
    try:
        cursor = connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        connection.commit()
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outputs", type=Path, help="JSON of `pulumi stack output --json`")
    parser.add_argument("--print", action="store_true", help="print the T-SQL, change nothing")
    args = parser.parse_args(argv)

    outputs = load_outputs(args.outputs)
    statements = grant_statements(users_from_outputs(outputs["database_identities"]))
    if args.print:
        print("\n".join(statements))
        return 0
    execute(outputs["sql_server_fqdn"], outputs["sql_database_name"], statements)
    print(f"granted {len(statements)} statement(s) on {outputs['sql_database_name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
