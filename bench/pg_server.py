#!/usr/bin/env python3
"""A throw-away PostgreSQL 15 server for the benchmarks (stdlib only), started the way
the tests start theirs (Tests/TestSupport/PostgresServer.swift): initdb into a new
directory as the `postgres` user (the server refuses root), trust authentication, a free
loopback port, its socket in that directory. Unlike the tests' server it keeps fsync on:
benchmarks measure commits as a user's server makes them.

  python3 bench/pg_server.py start DIR     # prints the URL of its `postgres` database
  python3 bench/pg_server.py stop DIR
"""
import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse

BINARIES = "/usr/lib/postgresql/15/bin"


def _as_postgres(argv):
    """Runs a server binary as `postgres` when this process is root, from /tmp (postgres
    may not enter the caller's working directory)."""
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", "/usr/bin/env", "-C", "/tmp"] + argv
    return subprocess.run(argv, capture_output=True, text=True)


def _check(out, what):
    if out.returncode != 0:
        sys.exit(f"pg_server: {what} failed: {out.stdout}{out.stderr}")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_file(directory):
    return os.path.join(directory, "port")


def start(directory=None, fsync=True):
    """Initialises and starts a server; returns (directory, URL of the `postgres` database)."""
    if not os.path.exists(f"{BINARIES}/pg_ctl"):
        sys.exit("pg_server: PostgreSQL 15 is not installed: apt-get install -y postgresql")
    directory = os.path.abspath(directory or tempfile.mkdtemp(prefix="arun-bench-pg-"))
    os.makedirs(directory, exist_ok=True)
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(directory, postgres.pw_uid, postgres.pw_gid)
    data = os.path.join(directory, "data")
    if not os.path.exists(data):
        _check(_as_postgres([f"{BINARIES}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"]),
               "initdb")
    port = _free_port()
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} "
               f"-c max_connections=200 -c fsync={'on' if fsync else 'off'}")
    _check(_as_postgres([f"{BINARIES}/pg_ctl", "-D", data, "-l", os.path.join(directory, "server.log"), "-w",
                         "-t", "120", "-o", options, "start"]), "pg_ctl start")
    with open(_port_file(directory), "w") as handle:
        handle.write(str(port))
    return directory, f"postgresql://postgres@127.0.0.1:{port}/postgres"


def stop(directory, remove=True):
    _as_postgres([f"{BINARIES}/pg_ctl", "-D", os.path.join(directory, "data"), "-m", "fast", "-w", "stop"])
    if remove:
        shutil.rmtree(directory, ignore_errors=True)


def psql(server, sql, database=None):
    """Runs SQL through psql as the URL's user; returns what it printed (unaligned, tuples only)."""
    url = urllib.parse.urlparse(server)
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", url.hostname,
                          "-p", str(url.port or 5432), "-U", url.username,
                          "-d", database or url.path.lstrip("/") or "postgres", "-c", sql],
                         capture_output=True, text=True)
    _check(out, f"psql {sql[:60]!r}")
    return out.stdout.strip()


def database_url(server, name, sslmode="disable"):
    """The URL of another database on the same server, as arun takes it."""
    url = urllib.parse.urlparse(server)._replace(path="/" + name, query=f"sslmode={sslmode}")
    return url.geturl()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("directory")
    parser.add_argument("--no-fsync", action="store_true", help="start with fsync=off (as the tests do)")
    args = parser.parse_args()
    if args.action == "start":
        print(start(args.directory, fsync=not args.no_fsync)[1])
    else:
        stop(args.directory, remove=False)


if __name__ == "__main__":
    main()
