"""Build the Functions app package Flex Consumption deploys: one zip, dependencies included.

    python services/workers/package.py            # -> services/workers/dist/workers.zip

The zip holds function_app.py and host.json at its root, the workers' code, the shared
platform_common library, and the pinned dependencies in .python_packages/lib/site-packages
(built for Linux x86-64, CPython 3.11), the layout a zip deploy without remote build runs.
Flex Consumption takes it through OneDeploy (`az functionapp deployment source config-zip`
or the Functions GitHub action), not WEBSITE_RUN_FROM_PACKAGE.
https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#deploy-your-code-project
https://learn.microsoft.com/azure/azure-functions/functions-reference-python#folder-structure
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WORKERS_DIR = Path(__file__).resolve().parent
SHARED = WORKERS_DIR.parent / "shared" / "platform_common"
ROOT_FILES = ("function_app.py", "host.json", "requirements.txt")
SITE_PACKAGES = Path(".python_packages/lib/site-packages")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


def stage(target: Path, *, with_dependencies: bool) -> None:
    for name in ROOT_FILES:
        shutil.copy2(WORKERS_DIR / name, target / name)
    shutil.copytree(WORKERS_DIR / "workers_app", target / "workers_app", ignore=SKIP)
    shutil.copytree(SHARED, target / "platform_common", ignore=SKIP)
    if with_dependencies:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--requirement",
                str(WORKERS_DIR / "requirements.txt"),
                "--target",
                str(target / SITE_PACKAGES),
                "--only-binary=:all:",
                "--platform",
                "manylinux2014_x86_64",
                "--python-version",
                "3.11",
                "--implementation",
                "cp",
            ],
            check=True,
        )


def build(output: Path, *, with_dependencies: bool = True) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp)
        stage(staged, with_dependencies=with_dependencies)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(staged.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(staged).as_posix())
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=WORKERS_DIR / "dist" / "workers.zip")
    parser.add_argument(
        "--no-dependencies", action="store_true", help="code only (for layout checks)"
    )
    args = parser.parse_args()
    path = build(args.output, with_dependencies=not args.no_dependencies)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
