"""Run pytest in a fork of a process that has already imported the heavy libraries.

Mutation testing starts pytest once per mutant; most of that time went on importing pytest,
pydantic, Pulumi, FastAPI and SQLAlchemy again. The server imports those third-party
libraries once (and only those project modules that import no mutated one), and
forks a child per request that runs `pytest.main` against the sources on disk.

    python scripts/forkserver.py serve SOCKET MUTATED,MODULES [preload ...]   # in the tree
    python -I -S scripts/forkserver.py run SOCKET TIMEOUT -- pytest-args...   # exit code
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys


def serve(path: str, preload: list[str], mutated: list[str]) -> None:
    """Answer each request with the exit code of pytest run in a fresh fork."""
    import importlib

    sys.dont_write_bytecode = True
    sys.path.insert(0, os.getcwd())
    for name in preload:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    stale = sorted(set(mutated) & set(sys.modules))
    if stale:
        sys.exit(f"preloading imported the mutated module(s) {', '.join(stale)}")
    if os.path.exists(path):
        os.unlink(path)
    parent = os.getppid()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        server.settimeout(5)
        while True:
            try:
                connection, _ = server.accept()
            except TimeoutError:
                if os.getppid() != parent:  # the mutation run is gone: so are we
                    return
                continue
            connection.settimeout(None)
            with connection:
                request = json.loads(connection.makefile().readline())
                if request.get("stop"):
                    return
                code = _run_forked(request["cwd"], request["args"], int(request["timeout"]))
                connection.sendall(f"{code}\n".encode())


def _run_forked(cwd: str, args: list[str], timeout: int) -> int:
    pid = os.fork()
    if pid == 0:  # the child: a fresh pytest run, killed by SIGALRM when it hangs
        code = 3
        try:
            signal.alarm(timeout)
            os.chdir(cwd)
            sys.path.insert(0, cwd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            code = int(pytest.main(args))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def run(path: str, timeout: str, args: list[str]) -> int:
    """Client side: ask the server for one pytest run and return its exit code."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(path)
        request = {"cwd": os.getcwd(), "args": args, "timeout": timeout}
        client.sendall((json.dumps(request) + "\n").encode())
        answer = client.makefile().readline().strip()
    code = int(answer) if answer else 3
    return code if code >= 0 else 128 - code


def stop(path: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(path)
        client.sendall(b'{"stop": true}\n')


if __name__ == "__main__":
    command, socket_path, *rest = sys.argv[1:]
    if command == "serve":
        # serve SOCKET MUTATED,MODULES PRELOAD...
        serve(socket_path, rest[1:], rest[0].split(","))
    elif command == "stop":
        stop(socket_path)
    else:
        separator = rest.index("--")
        sys.exit(run(socket_path, rest[0], rest[separator + 1 :]))
