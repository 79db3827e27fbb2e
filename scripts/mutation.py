"""Mutation testing (cosmic-ray) of the code whose small mistakes the other tests used to miss.

    make mutation                                   # every session, kill rate per area and total
    python -m scripts.mutation --session naming     # one session (repeatable)
    python -m scripts.mutation --retest-survivors   # re-run only last run's survivors

cosmic-ray mutates module-level tables and class bodies too (subnet minimums, `Field(ge=...)`
bounds, validators), which mutmut 3 skips. Mutants are made in a copy of the work tree under
`.mutation/`, never in the sources themselves, and each session runs only the tests that cover
its modules (`-x`, no xdist), fastest files first, so a killed mutant stops early.

Survivors that no test can kill are listed with the reason in tests/mutation/EQUIVALENT.md;
the figure that gates (`--fail-under`) counts them out, the raw figure is printed beside it.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".mutation"
EQUIVALENT_FILE = REPO / "tests" / "mutation" / "EQUIVALENT.md"
INFRA_PYTHON = ".venv/bin/python"
SERVICES_PYTHON = "services/.venv/bin/python"
# Third-party modules the fork server imports once (scripts/forkserver.py); never project code.
_AZURE_NATIVE = (
    "apimanagement app applicationinsights authorization cdn consumption containerregistry "
    "cosmosdb datafactory frontdoor insights keyvault managedidentity monitor network "
    "operationalinsights privatedns redisenterprise resources servicebus sql storage web"
)
PRELOAD: dict[str, tuple[str, ...]] = {
    INFRA_PYTHON: (
        "pytest",
        "pydantic",
        "pydantic.alias_generators",
        "yaml",
        "pulumi",
        "pulumi.runtime",
        "pulumi.runtime.mocks",
        "pulumi.runtime.rpc",
        "pulumi.runtime.config",
        "pulumi_random",
        "pulumi_policy",
        "pulumi_policy.proxy",
        *(f"pulumi_azure_native.{m}" for m in _AZURE_NATIVE.split()),
    ),
    SERVICES_PYTHON: (
        "pytest",
        "pydantic",
        "pydantic_settings",
        "fastapi",
        "fastapi.testclient",
        "starlette",
        "sqlalchemy",
        "sqlalchemy.orm",
        "httpx",
        "hypothesis",
        "azure.core",
        "azure.identity",
        "azure.servicebus",
        "opentelemetry.sdk.resources",
    ),
}
# Binary operators inside annotations only spell union types (`str | None`): with
# `from __future__ import annotations` they are types for mypy --strict, not behaviour.
ANNOTATION_OPERATOR = re.compile(r"core/ReplaceBinaryOperator_BitOr_")
# Of the eleven replacements cosmic-ray makes for each arithmetic operator, four are kept
# (+, -, *, / and |): on numbers they already change the value, on strings and sequences any
# of them raises like the others do. The other seven only multiply the run time.
EXCLUDED_OPERATORS = re.compile(
    r"core/ReplaceBinaryOperator_\w+_(Pow|LShift|RShift|BitAnd|BitXor|FloorDiv|Mod)$"
)
PYTEST_ARGS = ("-x", "-q", "-p", "no:xdist", "-p", "no:randomly")


@dataclass(frozen=True)
class Session:
    """One cosmic-ray session: modules of one area and the tests that cover them."""

    name: str
    area: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    python: str = INFRA_PYTHON
    # tests/conftest.py imports the mock engine; tests that use none of its fixtures skip it.
    noconftest: bool = False
    # Project modules the fork server may import once: none of them imports a mutated module.
    preload: tuple[str, ...] = ()

    def test_command(self, tree: Path, timeout: float) -> list[str]:
        """A client of the session's fork server (scripts/forkserver.py) that runs pytest."""
        tests = [t for t in self.tests if (tree / t).exists()]
        client = [str(tree / self.python), "-I", "-S", str(tree / "scripts/forkserver.py")]
        return [*client, "run", str(self.socket), f"{timeout:.0f}", "--", *self.pytest_args, *tests]

    @property
    def pytest_args(self) -> tuple[str, ...]:
        return (*PYTEST_ARGS, "--noconftest") if self.noconftest else PYTEST_ARGS

    @property
    def module_names(self) -> list[str]:
        """Import names of the mutated modules (services' packages sit in services/<dir>/)."""
        names = []
        for module in self.modules:
            parts = module.removesuffix(".py").split("/")
            if parts[0] == "services":
                parts = parts[2:]
            names.append(".".join(p for p in parts if p != "__init__"))
        return names

    @property
    def socket(self) -> Path:
        return WORK / f"{self.name}.sock"


RULES = REPO / "policies" / "rules"


def _halves(modules: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    big = {"policies/rules/common.py", "policies/rules/network.py"}
    return [
        ("a", tuple(m for m in modules if m in big)),
        ("b", tuple(m for m in modules if m not in big)),
    ]


# Areas in the priority order of issue 10 item 17.
SESSIONS: tuple[Session, ...] = (
    Session(
        "naming",
        "infra/core/naming.py",
        ("infra/core/naming.py",),
        ("tests/test_boundaries_naming.py", "tests/test_naming.py"),
        noconftest=True,
    ),
    Session(
        "networking",
        "infra/networking",
        tuple(
            f"infra/networking/{m}.py"
            for m in (
                "egress",
                "nat_gateway",
                "nsg",
                "private_endpoints",
                "protection",
                "subnets",
                "vnet",
            )
        ),
        (
            "tests/test_boundaries_networking.py",
            "tests/test_networking.py",
            "tests/test_egress.py",
            "tests/test_sql_connection.py",
        ),
        preload=("config.settings", "infra.core.naming", "infra.core.tags"),
    ),
    Session(
        "identity",
        "services identity/identifiers",
        (
            "services/shared/platform_common/identity.py",
            "services/shared/platform_common/identifiers.py",
            "services/shared/platform_common/authz.py",
            "services/shared/platform_common/text.py",
        ),
        (
            "services/shared/tests/test_mutants_identity.py",
            "services/shared/tests/test_authorization_matrix.py",
            "services/users/tests/test_users_api.py",
            "services/shared/tests/test_identifiers.py",
            "services/shared/tests/test_settings_identity_db.py",
        ),
        SERVICES_PYTHON,
    ),
    Session(
        "orders-domain",
        "services domain",
        ("services/orders/orders_service/domain.py",),
        (
            "services/orders/tests/test_mutants_domain.py",
            "services/orders/tests/test_orders_api.py",
        ),
        SERVICES_PYTHON,
    ),
    Session(
        "config",
        "config",
        (
            "config/base.py",
            "config/network.py",
            "config/protection.py",
            "config/skus.py",
            "config/data.py",
            "config/compute.py",
            "config/environment.py",
            "config/defaults.py",
            "config/settings.py",
            "config/secrets.py",
        ),
        (
            "tests/test_boundaries_settings.py",
            "tests/test_settings.py",
            "tests/test_etl_lifecycle.py",
            "tests/test_secrets.py",
        ),
    ),
    *(
        Session(
            f"policies-{part}",
            "policies/rules",
            modules,
            (
                "tests/test_mutants_policies_network.py",
                "tests/test_mutants_policies_rules.py",
                "tests/test_policies_rules.py",
                "tests/test_policies_stack.py",
                "tests/test_policies_fixtures.py",
            ),
            noconftest=True,
            preload=("policies.constants", "policies.core", "tests.policies.builders"),
        )
        # Two halves of about the same size, so that two runs can share the work.
        for part, modules in _halves(sorted(str(p.relative_to(REPO)) for p in RULES.glob("*.py")))
    ),
)


@dataclass(frozen=True)
class Mutant:
    """One finished mutant, identified by the line it changed rather than by its position."""

    session: str
    module: str
    line: int
    operator: str
    before: str
    after: str
    outcome: str  # killed | survived | incompetent
    job_id: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.module, self.before, self.after)


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    incompetent: int = 0
    seconds: float = 0.0
    survivors: list[Mutant] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.killed + self.survived + self.equivalent

    def rate(self, *, count_equivalent: bool) -> float:
        denominator = self.total if count_equivalent else self.total - self.equivalent
        return 100.0 * self.killed / denominator if denominator else 100.0


def _cosmic_ray() -> tuple[Any, Any, Any]:
    """cosmic-ray's work database and result types (the package ships no type hints)."""
    work_db = importlib.import_module("cosmic_ray.work_db")
    work_item = importlib.import_module("cosmic_ray.work_item")
    return work_db, work_item.WorkResult, work_item.WorkerOutcome


def copy_tree(tree: Path) -> None:
    """A fresh copy of the work tree (tracked and new files), with the shared virtualenvs linked."""
    if tree.exists():
        shutil.rmtree(tree)
    git = shutil.which("git") or "git"
    listed = subprocess.run(  # noqa: S603 - fixed arguments
        [git, "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if name in (".venv", "services/.venv") or not source.is_file():
            continue
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    for venv in (".venv", "services/.venv"):
        (tree / venv).parent.mkdir(parents=True, exist_ok=True)
        (tree / venv).symlink_to((REPO / venv).resolve(), target_is_directory=True)


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every annotation in a module, as (line, column)."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text())):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in filter(None, annotations):
            end = (annotation.end_lineno or annotation.lineno, annotation.end_col_offset or 0)
            spans.append(((annotation.lineno, annotation.col_offset), end))
    return spans


def skip_mutants(db_path: Path, tree: Path) -> int:
    """Mark excluded operators and union syntax inside annotations as skipped; return how many."""
    work_db, work_result, worker_outcome = _cosmic_ray()
    skipped = 0
    spans: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    with work_db.use_db(str(db_path), work_db.WorkDB.Mode.open) as db:
        for item in list(db.work_items):
            mutation = item.mutations[0]
            if EXCLUDED_OPERATORS.match(mutation.operator_name):
                db.set_result(item.job_id, work_result(worker_outcome=worker_outcome.SKIPPED))
                skipped += 1
                continue
            if not ANNOTATION_OPERATOR.match(mutation.operator_name):
                continue
            module = str(mutation.module_path)
            if module not in spans:
                spans[module] = annotation_spans(tree / module)
            start = tuple(mutation.start_pos)
            if any(low <= start < high for low, high in spans[module]):
                db.set_result(item.job_id, work_result(worker_outcome=worker_outcome.SKIPPED))
                skipped += 1
    return skipped


def _config(session: Session, tree: Path, timeout: float) -> str:
    modules = ", ".join(json.dumps(m) for m in session.modules)
    command = " ".join(session.test_command(tree, timeout))
    return (
        "[cosmic-ray]\n"
        f"module-path = [{modules}]\n"
        # The fork server's alarm ends a hung run first; this is cosmic-ray's backstop.
        f"timeout = {timeout + 10:.0f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )


def _environment() -> dict[str, str]:
    # No bytecode: a mutant written in the same second as its original, with the same size,
    # would otherwise be served from a stale .pyc.
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HYPOTHESIS_PROFILE": "default"}


def baseline(session: Session, tree: Path) -> float:
    """Run the session's tests unmutated: they must pass, and their time sets the timeout."""
    started = time.monotonic()
    command = [str(tree / session.python), "-m", "pytest", *session.pytest_args]
    tests = [t for t in session.tests if (tree / t).exists()]
    run = subprocess.run(  # noqa: S603 - the session table's own command
        [*command, *tests],
        cwd=tree,
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        sys.exit(f"session {session.name}: tests fail without any mutant:\n{run.stdout[-3000:]}")
    return time.monotonic() - started


@contextmanager
def fork_server(session: Session, tree: Path) -> Iterator[None]:
    """The session's fork server, running in the tree for as long as the session does."""
    session.socket.unlink(missing_ok=True)
    script = str(tree / "scripts/forkserver.py")
    preload = (*PRELOAD[session.python], *session.preload)
    server = subprocess.Popen(  # noqa: S603 - the session table's own command
        [
            str(tree / session.python),
            script,
            "serve",
            str(session.socket),
            ",".join(session.module_names),
            *preload,
        ],
        cwd=tree,
        env=_environment(),
    )
    try:
        deadline = time.monotonic() + 120
        while not session.socket.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"session {session.name}: the fork server did not start")
            time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)
        session.socket.unlink(missing_ok=True)


def run_session(session: Session, tree: Path, *, retest_survivors: bool, resume: bool) -> None:
    """Initialise (or reopen) the session's database and test every pending mutant."""
    elapsed = baseline(session, tree)
    timeout = max(30.0, 4 * elapsed)
    config_path = WORK / f"{session.name}.toml"
    db_path = WORK / f"{session.name}.sqlite"
    config_path.write_text(_config(session, tree, timeout))
    cosmic_ray = str(REPO / ".venv/bin/cosmic-ray")
    if retest_survivors and db_path.exists():
        forget_survivors(session, db_path)
    elif not (resume and db_path.exists()):
        subprocess.run(  # noqa: S603 - cosmic-ray from this venv
            [cosmic_ray, "init", "--force", str(config_path), str(db_path)],
            cwd=tree,
            check=True,
        )
        skip_mutants(db_path, tree)
    with fork_server(session, tree):
        subprocess.run(  # noqa: S603 - cosmic-ray from this venv
            [cosmic_ray, "exec", str(config_path), str(db_path)],
            cwd=tree,
            env=_environment(),
            check=True,
        )


def forget_survivors(session: Session, db_path: Path) -> None:
    """Drop the results of unexplained survivors so that `cosmic-ray exec` tests them again."""
    import sqlite3

    equivalents = load_equivalents()
    again = [
        (m.job_id,)
        for m in results(session)
        if m.outcome == "survived" and m.key not in equivalents
    ]
    with sqlite3.connect(db_path) as connection:
        connection.executemany("DELETE FROM work_results WHERE job_id = ?", again)


def _changed_lines(diff: str) -> tuple[int, str, str]:
    before = after = ""
    line = 0
    for text in diff.splitlines():
        if text.startswith("@@") and not line:
            line = int(re.findall(r"-(\d+)", text)[0])
        elif text.startswith("-") and not text.startswith("---") and not before:
            before = text[1:].strip()
        elif text.startswith("+") and not text.startswith("+++") and not after:
            after = text[1:].strip()
    return line, before, after


def results(session: Session) -> Iterable[Mutant]:
    """The finished mutants of one session."""
    work_db, _, _ = _cosmic_ray()
    db_path = WORK / f"{session.name}.sqlite"
    if not db_path.exists():
        return
    with work_db.use_db(str(db_path), work_db.WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.test_outcome is None:  # skipped, see skip_mutants
                continue
            mutation = item.mutations[0]
            hunk_line, before, after = _changed_lines(result.diff or "")
            yield Mutant(
                session=session.name,
                module=str(mutation.module_path),
                line=mutation.start_pos[0] or hunk_line,
                operator=mutation.operator_name.removeprefix("core/"),
                before=before,
                after=after,
                outcome=str(result.test_outcome.value),
                job_id=str(item.job_id),
            )


def load_equivalents(path: Path = EQUIVALENT_FILE) -> dict[tuple[str, str, str], str]:
    """Rows `| module | original line | mutated line | reason |` of EQUIVALENT.md."""
    row = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`(.+?)`\s*\|\s*`(.+?)`\s*\|(.+)\|\s*$")
    found: dict[tuple[str, str, str], str] = {}
    if not path.exists():
        return found
    for text in path.read_text().splitlines():
        match = row.match(text)
        if match:
            module, before, after, reason = (g.replace("\\|", "|") for g in match.groups())
            found[(module, before.strip(), after.strip())] = reason.strip()
    return found


def tally(sessions: Sequence[Session]) -> dict[str, Tally]:
    equivalents = load_equivalents()
    areas: dict[str, Tally] = {}
    for session in sessions:
        area = areas.setdefault(session.area, Tally())
        for mutant in results(session):
            if mutant.outcome == "incompetent":
                area.incompetent += 1
            elif mutant.outcome == "killed":
                area.killed += 1
            elif mutant.key in equivalents:
                area.equivalent += 1
            else:
                area.survived += 1
                area.survivors.append(mutant)
    return areas


def report(areas: dict[str, Tally], seconds: dict[str, float]) -> tuple[str, float]:
    lines = [
        f"{'area':32} {'mutants':>7} {'killed':>6} {'equiv':>5} {'left':>5} "
        f"{'kill%':>6} {'raw%':>6} {'time':>7}"
    ]
    total = Tally()
    for name, t in areas.items():
        total.killed += t.killed
        total.survived += t.survived
        total.equivalent += t.equivalent
        lines.append(
            f"{name:32} {t.total:7d} {t.killed:6d} {t.equivalent:5d} {t.survived:5d} "
            f"{t.rate(count_equivalent=False):6.1f} {t.rate(count_equivalent=True):6.1f} "
            f"{seconds.get(name, 0.0):6.0f}s"
        )
    lines.append(
        f"{'total':32} {total.total:7d} {total.killed:6d} {total.equivalent:5d} "
        f"{total.survived:5d} {total.rate(count_equivalent=False):6.1f} "
        f"{total.rate(count_equivalent=True):6.1f} {sum(seconds.values()):6.0f}s"
    )
    lines.append("kill% leaves out the equivalent mutants of tests/mutation/EQUIVALENT.md")
    survivors = [m for t in areas.values() for m in t.survivors]
    if survivors:
        lines.append(f"\n{len(survivors)} surviving mutant(s), neither killed nor equivalent:")
        lines += [
            f"  {m.module}:{m.line} {m.operator}\n      - {m.before}\n      + {m.after}"
            for m in survivors
        ]
    return "\n".join(lines), total.rate(count_equivalent=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--session", action="append", choices=[s.name for s in SESSIONS])
    parser.add_argument("--retest-survivors", action="store_true")
    parser.add_argument("--resume", action="store_true", help="go on with an interrupted run")
    parser.add_argument(
        "--tree", default="tree", help="name of the tree copy (one per concurrent run)"
    )
    parser.add_argument("--report-only", action="store_true", help="tally the last run's results")
    parser.add_argument("--fail-under", type=float, default=85.0)
    args = parser.parse_args(argv)
    # `kill` of a run still stops its fork server and restores the tree (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chosen = [s for s in SESSIONS if not args.session or s.name in args.session]
    WORK.mkdir(exist_ok=True)
    tree = WORK / args.tree
    seconds: dict[str, float] = {}
    if not args.report_only:
        copy_tree(tree)
        for session in chosen:
            started = time.monotonic()
            print(f"== {session.name}: {', '.join(session.modules)}", flush=True)
            run_session(session, tree, retest_survivors=args.retest_survivors, resume=args.resume)
            seconds[session.area] = seconds.get(session.area, 0.0) + time.monotonic() - started
    text, rate = report(tally(chosen), seconds)
    print(text)
    (WORK / "report.txt").write_text(text + "\n")
    if rate < args.fail_under:
        print(f"kill rate {rate:.1f}% is under {args.fail_under:.0f}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
