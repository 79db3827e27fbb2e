"""Create the workloads' contained database users after `pulumi up` (ARM cannot).

    pulumi stack output --json --stack prod > outputs.json
    python -m scripts.grant_database_access outputs.json            # runs the grants
    python -m scripts.grant_database_access outputs.json --print    # shows the T-SQL only

Runs as the SQL server's Microsoft Entra admin (the pipeline's identity, or a member of the
admin group) from a runner that can reach the server (inside the VNet where the server has
only a private endpoint). It needs `requirements-deploy.txt`.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.database.grants import grant_statements, users_from_outputs

# pyodbc connection attribute that carries an Entra access token:
# https://learn.microsoft.com/sql/connect/odbc/using-azure-active-directory#authenticating-with-an-access-token
SQL_COPT_SS_ACCESS_TOKEN = 1256
SQL_SCOPE = "https://database.windows.net/.default"
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


def execute(server: str, database: str, statements: Sequence[str]) -> None:
    """Run the statements in one transaction, authenticated with an Entra token."""
    import pyodbc  # type: ignore[import-not-found]
    from azure.identity import DefaultAzureCredential  # type: ignore[import-not-found]

    token = DefaultAzureCredential().get_token(SQL_SCOPE).token.encode("utf-16-le")
    packed = struct.pack(f"<I{len(token)}s", len(token), token)
    connection = pyodbc.connect(
        f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:{server},1433;"
        f"Database={database};Encrypt=yes;TrustServerCertificate=no;Connection Timeout=30",
        attrs_before={SQL_COPT_SS_ACCESS_TOKEN: packed},
    )
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
