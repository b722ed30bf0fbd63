"""A throwaway PostgreSQL server for the tests (session-scoped fixture `postgres_server`).

It needs the server binaries (initdb, pg_ctl: Debian's `postgresql` package puts them in /usr/lib/postgresql/*/bin;
.ci/run installs it) and psycopg (the [postgres] extra, in the test extra); without either the tests that use it
skip, saying which. The cluster is initialised in a temp folder with a password-protected superuser, listens on a
free loopback port (and a unix socket in the same folder) and is stopped and deleted at the end of the session.
PostgreSQL refuses to run as root, so as root (CI) initdb and pg_ctl run as the `postgres` user the package creates.
"""
from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "ganstudio"
PASSWORD = "pg-S3cret-4-tests"      # distinctive, so a test can tell it never leaked into output or files
DATABASE = "sweeps"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    def url(self, scheme: str = "postgresql", password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"{scheme}://{self.user}{secret}@{self.host}:{self.port}/{self.database}"


def _version(bindir: str) -> tuple[int, ...]:
    m = re.search(r"/postgresql/([\d.]+)/bin", bindir)
    return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)


def find_bindir() -> Path | None:
    """The newest Debian server binaries, else initdb/pg_ctl on PATH (other systems)."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        if os.access(f"{bindir}/initdb", os.X_OK) and os.access(f"{bindir}/pg_ctl", os.X_OK):
            return Path(bindir)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    return Path(initdb).parent if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl in /usr/lib/postgresql/*/bin or on PATH): "
                    "apt-get install postgresql (.ci/run does)")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed: pip install 'ganstudio[postgres]' (the test extra includes it)")
    run_as = {}
    if os.geteuid() == 0:                 # postgres refuses root: run the server as the package's user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
        run_as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    root = Path(tempfile.mkdtemp(prefix="ganstudio-pg-"))
    data, log, pwfile = root / "data", root / "server.log", root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if run_as:
        for p in (root, pwfile):
            os.chown(p, run_as["user"], run_as["group"])
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}

    def pg(*args, check=True):
        return subprocess.run([str(bindir / args[0]), *args[1:]], cwd=root, env=env, capture_output=True, text=True,
                              timeout=120, check=check, **run_as)

    port = _free_port()
    started = False
    try:
        pg("initdb", "-D", str(data), "-U", USER, f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8",
           "--no-sync")
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} -c fsync=off"
        pg("pg_ctl", "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start")
        started = True
        with psycopg.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield PostgresServer("127.0.0.1", port, USER, PASSWORD, DATABASE)
    except subprocess.CalledProcessError as e:
        server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        pytest.fail(f"{e.cmd[0]} failed: {e.stderr[-2000:]}\n{server_log}")
    finally:
        if started:
            pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)
