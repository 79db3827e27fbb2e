"""Build the Functions app package Flex Consumption deploys: one zip, dependencies included.

    python services/workers/package.py                       # -> services/workers/dist/workers.zip
    python services/workers/package.py --python-version 3.12 # a stack that runs 3.12

The zip holds function_app.py and host.json at its root, the workers' code, the shared
platform_common library, and the pinned dependencies in .python_packages/lib/site-packages
built for Linux x86-64 and the CPython version the stack runs (functions.python_version in
config/compute.py; the default is that setting's). That is the "local build" layout:
https://learn.microsoft.com/azure/azure-functions/python-build-options
Remote build is not used: it gives dependency installation 60 seconds, and it would need
the app's build to reach PyPI, which in prod means opening the firewall to it. The zip goes
up with OneDeploy (`az functionapp deployment source config-zip --build-remote false`, see
scripts/deploy_functions.py), not WEBSITE_RUN_FROM_PACKAGE.
https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#deploy-your-code-project
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import get_args

WORKERS_DIR = Path(__file__).resolve().parent
ROOT = WORKERS_DIR.parents[1]
if str(ROOT) not in sys.path:  # config/ is the repository's settings package
    sys.path.insert(0, str(ROOT))

from config.compute import FunctionsSettings  # noqa: E402  # needs ROOT on sys.path

SHARED = WORKERS_DIR.parent / "shared" / "platform_common"
ROOT_FILES = ("function_app.py", "host.json", "requirements.txt")
SITE_PACKAGES = Path(".python_packages/lib/site-packages")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")
_PYTHON = FunctionsSettings.model_fields["python_version"]
PYTHON_VERSIONS: tuple[str, ...] = get_args(_PYTHON.annotation)
DEFAULT_PYTHON_VERSION: str = _PYTHON.default
# Flex Consumption runs Linux x86-64 workers; manylinux2014 wheels run there.
PLATFORM = "manylinux2014_x86_64"
_EXTENSION = re.compile(r"\.cpython-(\d)(\d+)-")

Installer = Callable[[Path, str], None]


def pip_command(target: Path, python_version: str) -> list[str]:
    """pip installing the pinned requirements as wheels for the app's Linux Python."""
    if python_version not in PYTHON_VERSIONS:
        raise ValueError(
            f"python version {python_version!r}: allowed are {', '.join(PYTHON_VERSIONS)} "
            "(config/compute.py FunctionsSettings.python_version)"
        )
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--requirement",
        str(WORKERS_DIR / "requirements.txt"),
        "--target",
        str(target),
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--python-version",
        python_version,
        "--implementation",
        "cp",
    ]


def pip_install(target: Path, python_version: str) -> None:
    subprocess.run(pip_command(target, python_version), check=True)  # fixed argv


def check_extensions(site_packages: Path, python_version: str) -> None:
    """Refuse compiled modules built for another CPython (they would fail to import)."""
    wanted = python_version.replace(".", "")
    wrong = sorted(
        str(path.relative_to(site_packages))
        for path in site_packages.rglob("*.so")
        if (match := _EXTENSION.search(path.name)) and "".join(match.groups()) != wanted
    )
    if wrong:
        raise RuntimeError(
            f"compiled modules not for CPython {python_version}: {', '.join(wrong[:5])}"
        )


def stage(
    target: Path,
    *,
    with_dependencies: bool,
    python_version: str = DEFAULT_PYTHON_VERSION,
    install: Installer = pip_install,
) -> None:
    for name in ROOT_FILES:
        shutil.copy2(WORKERS_DIR / name, target / name)
    shutil.copytree(WORKERS_DIR / "workers_app", target / "workers_app", ignore=SKIP)
    shutil.copytree(SHARED, target / "platform_common", ignore=SKIP)
    if with_dependencies:
        site_packages = target / SITE_PACKAGES
        site_packages.mkdir(parents=True)
        install(site_packages, python_version)
        check_extensions(site_packages, python_version)


def build(
    output: Path,
    *,
    with_dependencies: bool = True,
    python_version: str = DEFAULT_PYTHON_VERSION,
    install: Installer = pip_install,
) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp)
        stage(
            staged,
            with_dependencies=with_dependencies,
            python_version=python_version,
            install=install,
        )
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(staged.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(staged).as_posix())
    return output


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=WORKERS_DIR / "dist" / "workers.zip")
    parser.add_argument(
        "--python-version",
        choices=PYTHON_VERSIONS,
        default=DEFAULT_PYTHON_VERSION,
        help="the stack's functions.python_version (default: the setting's default)",
    )
    parser.add_argument(
        "--no-dependencies", action="store_true", help="code only (for layout checks)"
    )
    args = parser.parse_args(argv)
    path = build(
        args.output,
        with_dependencies=not args.no_dependencies,
        python_version=args.python_version,
    )
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB, CPython {args.python_version})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
