"""A real local Flower deployment: one SuperLink and one SuperNode per clinic, each a separate process group on
127.0.0.1, plus ``flwr run`` submitting the liveredge Flower App; all stopped at the end, on error and on Ctrl-C.

Each SuperNode gets ONLY its own clinic's folder (``--node-config data-dir=... clinic-index=K``); the ServerApp
writes its results under ``OUT/federation/``. Locally the links are ``--insecure`` (loopback only); a real
deployment uses TLS (docs/federated.md). ``join`` submits the same app to an existing SuperLink instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from liveredge.edge.errors import ConfigError, LiveredgeError

APP_PACKAGE = "liveredge_fedapp"
_SHIMS = {
    "server.py": "from liveredge.models.federated import server_app as _impl\n\napp = _impl.app\n",
    "client.py": "from liveredge.models.federated import client_app as _impl\n\napp = _impl.app\n",
    "__init__.py": '"""liveredge federated fine-tuning (a thin Flower App; the code is the installed liveredge)."""\n',
}


class FederationError(LiveredgeError):
    """The federation could not start, failed, or ran out of time."""


@dataclass(frozen=True)
class Endpoint:
    """Where ``flwr run`` submits: a SuperLink Control API address, TLS or ``insecure`` (loopback only)."""

    control: str
    insecure: bool = False
    root_certificates: Path | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin(name: str) -> str:
    path = Path(sys.executable).parent / name
    if path.is_file():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise FederationError(f"{name} not found: install the federated extra (pip install 'liveredge[federated]')")
    return found


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_app(app_dir: Path, run_config: dict[str, object]) -> Path:
    """The Flower App (a FAB's sources): pyproject.toml with the run config, and two import shims."""
    pkg = app_dir / APP_PACKAGE
    pkg.mkdir(parents=True, exist_ok=True)
    for name, text in _SHIMS.items():
        (pkg / name).write_text(text)
    config = "\n".join(f"{k} = {_toml(v)}" for k, v in run_config.items())
    (app_dir / "pyproject.toml").write_text(f"""[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "liveredge-federate"
version = "1.0.0"
description = "liveredge federated fine-tuning (SIMULATED data, not for clinical use)"
license = "Apache-2.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["{APP_PACKAGE}"]

[tool.flwr.app]
publisher = "liveredge"

[tool.flwr.app.components]
serverapp = "{APP_PACKAGE}.server:app"
clientapp = "{APP_PACKAGE}.client:app"

[tool.flwr.app.config]
{config}
""")
    return app_dir


def write_cli_config(home: Path, endpoint: Endpoint) -> None:
    """``FLWR_HOME/config.toml`` naming the SuperLink connection ``liveredge`` for ``flwr run``."""
    home.mkdir(parents=True, exist_ok=True)
    lines = [
        "[superlink]",
        'default = "liveredge"',
        "",
        "[superlink.liveredge]",
        f"address = {_toml(endpoint.control)}",
    ]
    if endpoint.insecure:
        lines.append("insecure = true")
    if endpoint.root_certificates is not None:
        lines.append(f"root-certificates = {_toml(str(endpoint.root_certificates))}")
    (home / "config.toml").write_text("\n".join(lines) + "\n")


@dataclass
class Processes:
    """Started process groups by name (each its own session, so a kill reaches its children too)."""

    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, argv: Sequence[str], home: Path, cwd: Path | None = None) -> None:
        home.mkdir(parents=True, exist_ok=True)
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])  # flower-superexec
        env = {**os.environ, "PATH": path, "FLWR_HOME": str(home), "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(
                list(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
            )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop_all(self, grace_s: float = 10.0) -> None:
        """SIGTERM every group, wait up to ``grace_s``, then SIGKILL what is left (groups, so no orphans)."""
        for name in reversed(list(self.procs)):
            self.kill(name, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for name in self.procs:
            self.kill(name, signal.SIGKILL)
            try:  # the group may outlive its leader: kill it even after the leader exited
                os.killpg(self.procs[name].pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for proc in self.procs.values():
            proc.wait()

    def dead(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is not None]


def wait_port(address: str, timeout_s: float = 60.0) -> None:
    """Block until something accepts TCP connections on ``host:port`` (the SuperLink's HTTP API)."""
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError:
            time.sleep(0.5)
    raise FederationError(f"nothing answers on {address} after {timeout_s:.0f} s (is the SuperLink running?)")


def start_local(procs: Processes, root: Path, clinic_dirs: Sequence[Path]) -> Endpoint:
    """A SuperLink and one SuperNode per clinic on 127.0.0.1 (insecure: loopback only).

    Flower 1.42 serves the SuperLink's Fleet, Control and Runtime APIs over HTTP on one ``--host``/``--port``;
    each SuperNode has its own Runtime API port for its ClientApp processes."""
    link = f"127.0.0.1:{free_port()}"
    procs.start(
        "superlink",
        [_bin("flower-superlink"), "--insecure", "--host", "127.0.0.1", "--port", link.rpartition(":")[2]],
        root / "flwr" / "superlink",
    )
    wait_port(link)
    for k, data in enumerate(clinic_dirs):
        config = f'data-dir="{data.resolve()}" clinic-index={k}'
        procs.start(
            f"supernode-{k + 1}",
            [
                _bin("flower-supernode"),
                "--insecure",
                "--superlink",
                link,
                "--host",
                "127.0.0.1",
                "--port",
                str(free_port()),
                "--node-config",
                config,
            ],
            root / "flwr" / f"supernode-{k + 1}",
        )
    return Endpoint(link, insecure=True)


def submit(procs: Processes, root: Path, app_dir: Path, endpoint: Endpoint) -> None:
    """``flwr run APP liveredge --stream`` (its log: ``logs/flwr-run.log``)."""
    home = root / "flwr" / "cli"
    write_cli_config(home, endpoint)
    procs.start("flwr-run", [_bin("flwr"), "run", str(app_dir), "liveredge", "--stream"], home, cwd=app_dir)


def wait_for(
    result_dir: Path,
    procs: Processes,
    timeout_s: float,
    essential: Sequence[str],
    on_tick: Callable[[], None] | None = None,
) -> None:
    """Wait until the ServerApp writes done.json (ok) or error.json (raise), an ``essential`` process dies or
    ``flwr run`` fails, or time runs out (raise). A SuperNode that dies is NOT fatal: Flower completes the round
    with the others (min-available nodes) and the ServerApp reports the dropout. ``on_tick`` runs every poll
    (the fault drill uses it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (result_dir / "done.json").is_file():
            return
        if (result_dir / "error.json").is_file():
            raise FederationError(f"the ServerApp failed: {(result_dir / 'error.json').read_text()[:2000]}")
        dead = [n for n in procs.dead() if n in essential or (n == "flwr-run" and procs.procs[n].returncode != 0)]
        if dead:
            raise FederationError(f"{', '.join(dead)} exited early; see {procs.logs}/{dead[0]}.log")
        if on_tick is not None:
            on_tick()
        time.sleep(1.0)
    raise FederationError(f"the federation did not finish within {timeout_s:.0f} s; logs in {procs.logs}")


def parse_address(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--superlink {text!r}: use HOST:PORT (the SuperLink's Control API, e.g. 10.0.0.5:9093)")
    return text
