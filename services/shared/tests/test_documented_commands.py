"""The commands the READMEs document run as written: targets exist, flags exist, and the
services' make targets work without the venv on PATH."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .apps import SERVICES_DIR

REPO = SERVICES_DIR.parent
MAKE = shutil.which("make") or "make"
READMES = (REPO / "README.md", SERVICES_DIR / "README.md")


def _shell_lines(readme: Path) -> list[str]:
    """Commands in ```bash blocks (continuations joined, comments dropped)."""
    text = readme.read_text()
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split(" #", 1)[0].strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def _make_invocations() -> list[tuple[Path, list[str]]]:
    """`make ...` lines of bash blocks, `or: make ...` in their comments, and `make ...`
    in backticks anywhere in the text."""
    found: dict[tuple[Path, str], None] = {}
    for readme in READMES:
        text = readme.read_text()
        commands = [line for line in _shell_lines(readme) if line.startswith("make ")]
        commands += re.findall(r"# or: (make [^\n#]+)", text)
        commands += re.findall(r"`(make [^`]+)`", text)
        for command in commands:
            found[(readme, command.strip())] = None
    return [(readme, shlex.split(command)[1:]) for readme, command in found]


def _documented(args: list[str]) -> list[str]:
    """PYTHON=/tmp/svc-venv/bin/python in the docs means this test's interpreter."""
    return [
        f"PYTHON={sys.executable}" if a.startswith("PYTHON=") else a for a in args if "<" not in a
    ]


@pytest.mark.parametrize(
    ("readme", "args"),
    _make_invocations(),
    ids=lambda v: v.name if isinstance(v, Path) else " ".join(v),
)
def test_documented_make_targets_exist(readme: Path, args: list[str]) -> None:
    result = subprocess.run(
        [MAKE, "-n", *_documented(args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{readme.name}: make {' '.join(args)}\n{result.stderr}"


def test_services_make_targets_need_no_venv_on_path() -> None:
    """`make -C services ... hadolint PYTHON=...` found hadolint only when the venv's bin
    was on PATH; it is now taken from beside the interpreter."""
    env = {**os.environ, "PATH": "/usr/local/bin:/usr/bin:/bin"}
    result = subprocess.run(
        [MAKE, "-C", "services", "hadolint", f"PYTHON={sys.executable}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_documented_bench_flags_exist() -> None:
    result = subprocess.run(
        [sys.executable, str(SERVICES_DIR / "bench" / "bench.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    documented = {
        flag
        for readme in (*READMES, SERVICES_DIR / "Makefile", REPO / "Makefile")
        for line in readme.read_text().splitlines()
        if "bench/bench.py" in line
        for flag in re.findall(r"(--[a-z][a-z-]+)", line)
    }
    assert documented, "the READMEs document a bench command"
    missing = sorted(flag for flag in documented if flag not in result.stdout)
    assert missing == []
