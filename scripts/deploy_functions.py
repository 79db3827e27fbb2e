"""Deploy the workers' package to the Flex Consumption app with OneDeploy, after `pulumi up`.

    pulumi stack output --json --stack prod > outputs.json
    python -m scripts.deploy_functions outputs.json --print   # shows the commands only
    python -m scripts.deploy_functions outputs.json           # builds the zip and deploys it

Flex Consumption has no ARM resource for code: the zip built by `make -C services
package-workers` goes up with `az functionapp deployment source config-zip`, which on Flex
uses OneDeploy and stores the package in the app's deployment container.
https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#deploy-your-code-project
Basic-auth publishing is off, so `az` must be logged in (`az login`, or OIDC in CI) with a
role that may deploy to the app, from an address the app's SCM site admits (the stack's
allowed IP ranges or the NAT egress address).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

from config.compute import FunctionsSettings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ZIP = ROOT / "services" / "workers" / "dist" / "workers.zip"
_PYTHON = FunctionsSettings.model_fields["python_version"]
PYTHON_VERSIONS: tuple[str, ...] = get_args(_PYTHON.annotation)
DEFAULT_PYTHON_VERSION: str = _PYTHON.default
REQUIRED_OUTPUTS = ("resource_group_name", "functions_app_name")
# App Service names: letters, digits and hyphens, 2-60, no leading or trailing hyphen.
APP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,58}[A-Za-z0-9]$")
# Resource group names: 1-90 of letters, digits, underscores, hyphens, periods, parentheses.
RESOURCE_GROUP = re.compile(r"^[-\w.()]{0,89}[-\w()]$")


def load_outputs(path: Path) -> dict[str, str]:
    """The stack outputs the deploy step needs, with a clear error when one is missing."""
    try:
        outputs: Any = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"cannot read stack outputs from {path}: {exc}") from exc
    if not isinstance(outputs, dict):
        raise SystemExit(f"{path}: expected the JSON object of `pulumi stack output --json`")
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise SystemExit(
            f"{path} lacks stack output(s) {', '.join(missing)}; expected the JSON of "
            "`pulumi stack output --json` of a stack with features.enableFunctions = true"
        )
    return {key: str(outputs[key]) for key in REQUIRED_OUTPUTS}


def build_command(python: str, python_version: str = DEFAULT_PYTHON_VERSION) -> list[str]:
    """The workers' package build (services/Makefile) for the app's Linux Python version."""
    return [
        "make",
        "-C",
        str(ROOT / "services"),
        "package-workers",
        f"PYTHON={python}",
        f"FUNCTIONS_PYTHON={python_version}",
    ]


def deploy_command(*, app_name: str, resource_group: str, zip_path: Path) -> list[str]:
    """`az functionapp deployment source config-zip` for a Flex app (OneDeploy)."""
    if not APP_NAME.fullmatch(app_name):
        raise ValueError(
            f"app name {app_name!r}: allowed are 2-60 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    if not RESOURCE_GROUP.fullmatch(resource_group):
        raise ValueError(
            f"resource group {resource_group!r}: allowed are 1-90 letters, digits, '_', '-', "
            "'.', '(' and ')', not ending with '.'"
        )
    if zip_path.suffix != ".zip":
        raise ValueError(f"package {zip_path}: Flex Consumption deploys a .zip file")
    return [
        "az",
        "functionapp",
        "deployment",
        "source",
        "config-zip",
        "--resource-group",
        resource_group,
        "--name",
        app_name,
        "--src",
        str(zip_path),
        # The zip carries its dependencies (services/workers/package.py): no remote build.
        "--build-remote",
        "false",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outputs", type=Path, help="JSON of `pulumi stack output --json`")
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP, help="package to deploy")
    parser.add_argument(
        "--skip-build", action="store_true", help="deploy an existing --zip without rebuilding"
    )
    parser.add_argument("--print", action="store_true", help="print the commands, run nothing")
    parser.add_argument(
        "--python",
        default=str(ROOT / "services" / ".venv" / "bin" / "python"),
        help="the services' interpreter that builds the package",
    )
    parser.add_argument(
        "--python-version",
        choices=PYTHON_VERSIONS,
        default=DEFAULT_PYTHON_VERSION,
        help="the stack's functions.python_version, which the package's wheels must match",
    )
    args = parser.parse_args(argv)
    outputs = load_outputs(args.outputs)
    try:
        deploy = deploy_command(
            app_name=outputs["functions_app_name"],
            resource_group=outputs["resource_group_name"],
            zip_path=args.zip,
        )
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    build = build_command(args.python, args.python_version)
    commands = ([] if args.skip_build else [build]) + [deploy]
    if args.print:
        for command in commands:
            print(" ".join(command))
        return 0
    if shutil.which("az") is None:
        raise SystemExit("the Azure CLI (`az`) is not on PATH: https://aka.ms/installazurecli")
    if not args.skip_build:
        subprocess.run(build, check=True)  # noqa: S603 - fixed argv
    if not args.zip.is_file():
        raise SystemExit(f"package {args.zip} does not exist: build it or drop --skip-build")
    subprocess.run(deploy, check=True)  # noqa: S603 - validated names, no shell
    return 0


if __name__ == "__main__":
    sys.exit(main())
