"""`jobcast up` brings the whole stack up, takes all of it down, and starts again on the same data
dir; `jobcast keys` manages keys of the running stack. All run as a user would: subprocesses."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
import redis

from jobcast.embedded_redis import free_port
from jobcast.launch_checks import data_dir_held
from jobcast.launcher import Stack, UpOptions
from jobcast.orphan_watch import STOP_GRACE_SECONDS
from jobcast.settings import Settings
from tests.support.ports import port_held
from tests.support.processes import REPO_ROOT, http_ok, http_status, still_running, wait_for

pytestmark = pytest.mark.slow

JSON_LOGS = {"JOBCAST_LOG_JSON": "1"}
#: The sentinels' down-after of the failover test (5000 by default): as the Sentinel tests use.
FAILOVER_DOWN_AFTER_MS = 1000


def user_env() -> dict[str, str]:
    """A user's environment: no JOBCAST_ variable at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    return env | {"PYTHONPATH": str(REPO_ROOT)}


def jobcast(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the `jobcast` command as a user would, from `cwd`."""
    argv = [sys.executable, "-m", "jobcast", *args]
    return subprocess.run(
        argv, cwd=cwd, env=env or user_env(), capture_output=True, text=True, timeout=60
    )


@dataclass
class Run:
    """One `jobcast up` in a project directory: started from there with no JOBCAST_ variable."""

    project: Path
    api_port: int
    flower_port: int
    out: Path
    launcher: subprocess.Popen[bytes] | None = None
    #: More `jobcast up` options (`--ha`).
    options: tuple[str, ...] = ()
    #: JOBCAST_ variables to run it with.
    env: dict[str, str] = field(default_factory=dict)
    #: Whether Flower answered when the api's /readyz first answered 200 (None: never seen).
    flower_before_api: bool | None = None

    def start(self) -> None:
        argv = [
            sys.executable,
            "-m",
            "jobcast",
            "up",
            "--api-port",
            str(self.api_port),
            "--flower-port",
            str(self.flower_port),
            *self.options,
        ]
        self.out.write_bytes(b"")
        with self.out.open("wb") as sink:
            self.launcher = subprocess.Popen(
                argv,
                env=user_env() | self.env,
                cwd=self.project,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.flower_before_api = None

        def up() -> bool:
            # A client polling /readyz sends its first job the moment it answers 200: note
            # whether Flower, which sees only the events sent once it listens, was up by then.
            if self.flower_before_api is None and http_status(self.api_url("/readyz")) == 200:
                self.flower_before_api = http_status(f"http://127.0.0.1:{self.flower_port}/") == 401
            assert self.launcher is not None
            return "Jobcast is up" in self.out.read_text() or self.launcher.poll() is not None

        wait_for(up, 90, "the launcher's announcement", interval=0.05)
        assert "Jobcast is up" in self.out.read_text(), self.out.read_text()

    def api_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.api_port}{path}"

    def banner(self, label: str) -> str:
        """The value on the banner's `label` line (the first word after the label)."""
        match = re.search(rf"^  {label} +(\S+)", self.out.read_text(), re.MULTILINE)
        assert match, self.out.read_text()
        return match.group(1)

    def children(self) -> list[psutil.Process]:
        assert self.launcher is not None
        return list(psutil.Process(self.launcher.pid).children(recursive=True))

    def stop(self) -> float:
        """SIGTERM the launcher; the seconds it took to exit."""
        assert self.launcher is not None
        started = time.monotonic()
        self.launcher.send_signal(signal.SIGTERM)
        self.launcher.wait(timeout=15)
        return time.monotonic() - started


@dataclass
class Restarted:
    """What the first run showed, and the second run, still up."""

    first_key: str
    first_stop_seconds: float
    left_behind: list[int]
    first_children: str
    flower_statuses: tuple[int, int]
    run: Run
    #: All the first run printed, up to its exit.
    first_output: str = ""
    #: Whether var/api.url was still there once the first run had stopped.
    api_url_after_stop: bool = True
    #: The embedded Redis' address in the first run (var/redis.url).
    first_redis_url: str = ""


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restarted]:
    """`jobcast up`, stopped, then `jobcast up` again in the same directory (same data dir)."""
    project = tmp_path_factory.mktemp("project")
    run = Run(project, free_port(), free_port(), project / "launcher.out")
    try:
        run.start()
        children = run.children()
        names = " ".join(" ".join(c.cmdline()) for c in children)
        flower = f"http://127.0.0.1:{run.flower_port}/"
        password = run.banner("Flower password")
        statuses = (
            httpx.get(flower, timeout=5).status_code,
            httpx.get(flower, auth=("admin", password), timeout=5).status_code,
        )
        first_key = run.banner("API key")
        redis_url = (project / "var" / "redis.url").read_text()
        seconds = run.stop()
        first_output = run.out.read_text()
        url_left = (project / "var" / "api.url").exists()
        alive = still_running(children, 1)
        run.start()
        left = [p.pid for p in alive]
        yield Restarted(
            first_key, seconds, left, names, statuses, run, first_output, url_left, redis_url
        )
    finally:
        if run.launcher is not None and run.launcher.poll() is None:
            run.stop()
        print(run.out.read_text())


def test_up_serves_ready_api_and_authenticated_flower_then_stops_every_child(
    restarted: Restarted,
) -> None:
    assert "redis-server" in restarted.first_children
    assert "-m workers -Q files" in restarted.first_children
    assert "-m workers -Q orders" in restarted.first_children
    assert "celery -A workers.flower_app flower" in restarted.first_children
    assert "uvicorn" in restarted.first_children
    assert restarted.flower_statuses == (401, 200)
    assert restarted.first_stop_seconds < 10.5
    assert restarted.first_output.rstrip().endswith("Stopping every process…\nStopped.")
    assert restarted.left_behind == []
    assert restarted.api_url_after_stop is False  # no address of a stack that is gone


def test_readmes_banner_scraping_command_reads_the_key_alone(restarted: Restarted) -> None:
    # README showed `grep '^  API key'`, which keeps the label and the `(dev, admin: …)` note.
    readme = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"`awk '(/\^  API key/ \{print \$3\})'`", readme)
    assert match, "README's banner-scraping awk command was not found"
    awk = ["awk", match.group(1)]
    read = subprocess.run(awk, input=restarted.first_output, capture_output=True, text=True)
    assert read.stdout.strip() == restarted.first_key


def test_the_stack_limits_frames_and_redis_memory_and_keeps_its_files_private(
    restarted: Restarted,
) -> None:
    run = restarted.run
    assert_hardened(run.project / "var", run.api_port, run.children())


def test_up_starts_again_on_the_same_data_dir_with_the_same_secrets_and_dev_key(
    restarted: Restarted,
) -> None:
    run = restarted.run
    assert http_ok(f"http://127.0.0.1:{run.api_port}/readyz")
    app = run.banner("App")
    assert app == f"http://127.0.0.1:{run.api_port}/"
    assert "<title>Jobcast</title>" in httpx.get(app, timeout=5).text
    assert run.banner("API key") == restarted.first_key
    stored = json.loads((run.project / "var" / "dev-secrets.json").read_text())
    assert run.banner("Flower password") == stored["flower_password"]
    assert stored["dev_api_key"] == restarted.first_key
    # Redis on its port of the first run: an api or worker added by hand from var/redis.url
    # finds the stack again (a new port left them retrying the old one forever).
    assert (run.project / "var" / "redis.url").read_text() == restarted.first_redis_url
    # The banner names where that Redis listens (its URL, with the password, stays in the file).
    address = urlsplit(restarted.first_redis_url)
    assert run.banner("Redis +embedded,") == f"{address.hostname}:{address.port}"
    assert address.password
    assert address.password not in run.out.read_text()
    me = httpx.get(
        f"http://127.0.0.1:{run.api_port}/data/",
        headers={"Authorization": f"Bearer {restarted.first_key}"},
        timeout=5,
    )
    assert me.status_code == 200


def test_keys_create_list_revoke_against_the_running_stack_from_its_directory(
    restarted: Restarted,
) -> None:
    run = restarted.run
    api = f"http://127.0.0.1:{run.api_port}"

    created = jobcast("keys", "create", "--name", "alice", cwd=run.project)
    assert created.returncode == 0, created.stderr + created.stdout
    key = created.stdout.strip().splitlines()[-1]
    key_id = re.search(r"key id (\S+),", created.stdout).group(1)  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{api}/data/", headers=headers, timeout=5).status_code == 200

    listed = jobcast("keys", "list", cwd=run.project)
    assert listed.returncode == 0, listed.stderr + listed.stdout
    row = next(line for line in listed.stdout.splitlines() if key_id in line)
    assert "alice" in row

    # Rotation: a second key for the same principal sees what the first one made.
    principal = re.search(r"principal (p_\w+)", created.stdout).group(1)  # type: ignore[union-attr]
    made = httpx.post(f"{api}/data/", headers=headers, json={"name": "kept", "value": 1}, timeout=5)
    assert made.status_code == 201, made.text
    again = jobcast("keys", "create", "--name", "alice", cwd=run.project)
    assert principal in again.stderr  # a namesake, said so (stdout keeps the key last)
    assert "--principal" in again.stderr
    assert again.stdout.strip().splitlines()[-1].startswith("jc_")
    nameless = jobcast("keys", "create", "--name", " ", cwd=run.project)
    assert nameless.returncode == 2
    assert "--name NAME" in nameless.stderr
    escaping = jobcast("keys", "create", "--name", "\x1b[31mEVIL", cwd=run.project)
    assert escaping.returncode == 2
    assert "--name: the name holds U+001B" in escaping.stderr
    rotated = jobcast("keys", "create", "--principal", principal, cwd=run.project)
    assert rotated.returncode == 0, rotated.stderr + rotated.stdout
    assert f"principal {principal}" in rotated.stdout
    new_headers = {"Authorization": f"Bearer {rotated.stdout.strip().splitlines()[-1]}"}
    wrong = jobcast("keys", "create", "--principal", "p_0000000000000000", cwd=run.project)
    assert wrong.returncode == 2
    assert "keys list" in wrong.stdout + wrong.stderr

    revoked = jobcast("keys", "revoke", key_id, cwd=run.project)
    assert revoked.returncode == 0, revoked.stderr + revoked.stdout
    assert revoked.stdout.strip() == f"revoked {key_id}"
    twice = jobcast("keys", "revoke", key_id, cwd=run.project)
    assert twice.stdout.strip() == f"already revoked {key_id}"
    unknown = jobcast("keys", "revoke", "k_nosuchkey", cwd=run.project)
    assert unknown.returncode == 3
    assert unknown.stderr.startswith("jobcast error: no key with id k_nosuchkey;")
    assert httpx.get(f"{api}/data/", headers=headers, timeout=5).status_code == 401
    mine = httpx.get(f"{api}/data/", headers=new_headers, timeout=5)
    assert [item["id"] for item in mine.json()["items"]] == [made.json()["id"]]


def test_login_from_the_stacks_directory_finds_its_api_on_the_port_it_was_given(
    restarted: Restarted, tmp_path: Path
) -> None:
    # Started with --api-port, which no environment variable says: the client reads var/api.url.
    run = restarted.run
    api = f"http://127.0.0.1:{run.api_port}"
    assert (run.project / "var" / "api.url").read_text() == api
    config = tmp_path / "config.json"
    env = user_env() | {"JOBCAST_CONFIG": str(config)}
    done = jobcast("login", "--key", restarted.first_key, cwd=run.project, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(config.read_text())["url"] == api


def test_keys_elsewhere_say_what_to_set_and_work_once_it_is_set(
    restarted: Restarted, tmp_path: Path
) -> None:
    elsewhere = jobcast("keys", "list", cwd=tmp_path)
    assert elsewhere.returncode == 2
    said = " ".join((elsewhere.stdout + elsewhere.stderr).split())
    assert "JOBCAST_DATA_DIR" in said
    assert "JOBCAST_REDIS_URL and JOBCAST_KEY_SECRET" in said
    assert not (tmp_path / "var").exists()  # looking created nothing there

    data_dir = str(restarted.run.project / "var")
    listed = jobcast("keys", "list", cwd=tmp_path, env=user_env() | {"JOBCAST_DATA_DIR": data_dir})
    assert listed.returncode == 0, listed.stderr + listed.stdout
    assert "dev" in listed.stdout


def test_a_second_up_from_the_same_directory_is_refused_and_the_first_runs_on(
    restarted: Restarted,
) -> None:
    run = restarted.run
    assert run.launcher is not None
    ports = ("--api-port", str(free_port()), "--flower-port", str(free_port()))

    second = jobcast("up", *ports, cwd=run.project)

    assert second.returncode == 1
    said = " ".join(second.stderr.split())
    assert f"(pid {run.launcher.pid}) is already running from {run.project / 'var'}" in said
    assert "JOBCAST_DATA_DIR" in said
    assert "Jobcast is up" not in second.stdout
    # The first stack lost nothing: its Redis address is still there for `jobcast keys`.
    assert (run.project / "var" / "redis.url").exists()
    listed = jobcast("keys", "list", cwd=run.project)
    assert listed.returncode == 0, listed.stderr + listed.stdout
    assert http_ok(f"http://127.0.0.1:{run.api_port}/readyz")


def project_files(project: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every path under `project`: a file's bytes and modification time, None for a directory."""
    return {
        str(p.relative_to(project)): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
        for p in project.rglob("*")
    }


@pytest.mark.parametrize("earlier_run", [False, True], ids=["new-project", "after-a-run"])
def test_up_on_a_port_in_use_says_which_and_how_to_change_it_and_leaves_nothing_behind(
    tmp_path: Path, earlier_run: bool
) -> None:
    if earlier_run:  # the dev key and secrets an earlier `jobcast up` left, the user's to keep
        (tmp_path / "var").mkdir(mode=0o700)
        earlier = {"flower_password": "f", "key_secret": "k", "redis_password": "r"}
        (tmp_path / "var" / "dev-secrets.json").write_text(
            json.dumps(earlier | {"dev_api_key": "jc_earlier"})
        )
    before = project_files(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = ("--api-port", str(port), "--flower-port", str(free_port()))

        refused = jobcast("up", *ports, cwd=tmp_path)

    assert refused.returncode == 1
    said = " ".join(refused.stderr.split())
    assert f"cannot listen on 127.0.0.1:{port} (api): another program listens there" in said
    assert "JOBCAST_API_PORT" in said
    # It left dev-secrets.json and up.lock (and rewrote an earlier dev-secrets.json).
    assert project_files(tmp_path) == before
    # Nothing held: the directory starts a stack once the port is free (checked by the lock).
    with data_dir_held(tmp_path / "var"):
        pass


def test_up_names_every_port_in_use_in_one_refusal(tmp_path: Path) -> None:
    # It named the first taken one only: with the api's and Flower's both taken, two failed
    # starts to learn of both.
    with port_held() as api, port_held() as flower, port_held() as redis_port:
        ports = ("--api-port", str(api), "--flower-port", str(flower))
        refused = jobcast("up", *ports, "--redis-port", str(redis_port), cwd=tmp_path)
    assert refused.returncode == 1
    lines = refused.stderr.splitlines()
    assert lines == [
        f"jobcast error: cannot listen on 127.0.0.1:{api} (api): another program listens there;"
        " stop what holds it, or choose another with JOBCAST_API_PORT or `jobcast up --api-port`",
        f"  cannot listen on 127.0.0.1:{flower} (flower): another program listens there; stop "
        "what holds it, or choose another with JOBCAST_FLOWER_PORT or `jobcast up --flower-port`",
        f"  cannot listen on 127.0.0.1:{redis_port} (redis): another program listens there; stop "
        "what holds it, or choose another with JOBCAST_REDIS_PORT or `jobcast up --redis-port`",
    ]


@pytest.mark.parametrize("part", ["api", "flower"])
def test_a_port_taken_after_the_check_is_named_as_one_taken_before(
    tmp_path: Path, part: str
) -> None:
    # Another program took Flower's port between the launcher's check and Flower's bind: the
    # stack ended on "flower exited with code 1" and an OSError traceback from its log.
    ports = {"api": free_port(), "flower": free_port()}
    argv = [sys.executable, "-m", "jobcast", "up"]
    argv += ["--api-port", str(ports["api"]), "--flower-port", str(ports["flower"])]
    launcher = subprocess.Popen(
        argv, env=user_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        # Written once Redis is up, before the api and Flower start (each imports for a
        # second or more before it binds): the ports were checked free, the parts not bound.
        wait_for(lambda: (tmp_path / "var" / "redis.url").exists(), 60, "the stack's Redis")
        with port_held(ports[part]):
            _, err = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 1
    assert err.decode().splitlines() == [
        f"jobcast error: cannot listen on 127.0.0.1:{ports[part]} ({part}): another program "
        f"took it as {part} started; stop what holds it, or choose another with "
        f"JOBCAST_{part.upper()}_PORT or `jobcast up --{part}-port` (its log: var/log/{part}.log)"
    ]


def test_a_dead_worker_is_started_again_and_redis_dying_stops_the_rest_naming_it(
    tmp_path: Path,
) -> None:
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    env |= {"JOBCAST_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO_ROOT)}
    argv = [
        sys.executable,
        "-m",
        "jobcast",
        "up",
        "--api-port",
        str(api_port),
        "--flower-port",
        str(free_port()),
    ]
    out = tmp_path / "launcher.out"
    with out.open("wb") as sink:
        launcher = subprocess.Popen(
            argv, env=env, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: "Jobcast is up" in out.read_text(), 90, "the launcher's announcement")

        def files_worker() -> psutil.Process:
            return next(
                c
                for c in psutil.Process(launcher.pid).children()
                if "files" in c.cmdline() and "workers" in c.cmdline()
            )

        lost = files_worker()
        pool = lost.children()
        lost.kill()  # an operator's drill, or the OOM killer: it took the whole stack down

        said = "worker-files was killed by SIGKILL (signal 9); started again"
        wait_for(lambda: said in out.read_text(), 15, "the restart's line")
        assert launcher.poll() is None
        assert files_worker().pid != lost.pid
        left = still_running(pool, 5)
        assert left == []  # the dead worker's pool went with it
        ready = f"http://127.0.0.1:{api_port}/readyz"
        wait_for(lambda: http_ok(ready), 60, "a files worker consuming again")

        children = psutil.Process(launcher.pid).children(recursive=True)
        next(c for c in children if c.name().startswith("redis-server")).kill()

        assert launcher.wait(timeout=15) == 1
        alive = still_running(children, 1)
        assert alive == []
        report = out.read_text()
        assert "redis was killed by SIGKILL (signal 9)" in report
        assert "Last lines of" in report
    finally:
        if launcher.poll() is None:
            launcher.kill()


def assert_hardened(var: Path, api_port: int, children: list[psutil.Process]) -> None:
    """Limits on the command lines, and the data directory readable by its owner only."""
    lines = {" ".join(c.cmdline()) for c in children}
    assert any("uvicorn" in ln and "--ws-max-size 65536" in ln for ln in lines), lines
    embedded = redis.Redis.from_url((var / "redis.url").read_text(), decode_responses=True)
    assert embedded.config_get("maxmemory") == {"maxmemory": "1073741824"}
    assert embedded.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    embedded.close()
    key = json.loads((var / "dev-secrets.json").read_text())["dev_api_key"]
    job = httpx.post(
        f"http://127.0.0.1:{api_port}/jobs",
        headers={"Authorization": f"Bearer {key}"},
        files={
            "file": ("t.csv", b"a,b\n1,2\n3,4\n"),
            "params": (None, '{"operation": "convert", "to": "parquet"}'),
        },
        timeout=10,
    ).json()
    url = f"http://127.0.0.1:{api_port}/jobs/{job['id']}"
    as_dev = {"Authorization": f"Bearer {key}"}
    wait_for(lambda: httpx.get(url, headers=as_dev).json()["status"] == "succeeded", 60, "the job")
    written = [p for p in var.rglob("*") if p.name != "dev-secrets.json"]
    assert any(p.suffix == ".aof" for p in written)
    assert any(p.parent.name == "artifacts" for p in written)
    modes = {str(p.relative_to(var)): oct(p.stat().st_mode & 0o777) for p in written}
    assert all(m == ("0o700" if (var / p).is_dir() else "0o600") for p, m in modes.items()), modes


def test_up_ha_outlives_a_killed_primary_then_restarts_keeping_writes_sentinels_moving_taken_ports(
    tmp_path: Path,
) -> None:
    # One HA stack for both (a start and a stop of five Redis servers and the rest cost ~10 s):
    # the restart after the failover is also the one on a data node's port another program took.
    run = Run(tmp_path, free_port(), free_port(), tmp_path / "launcher.out", options=("--ha",))
    run.env = {"JOBCAST_REDIS_HA_DOWN_AFTER_MS": str(FAILOVER_DOWN_AFTER_MS)}
    var = tmp_path / "var"
    try:
        run.start()
        assert down_after_ms(run) == FAILOVER_DOWN_AFTER_MS  # the failover comes 4 s sooner
        sentinels = run.banner("Redis +embedded, Sentinel:")
        sentinels_file = (var / "redis.sentinels").read_text()
        created = jobcast("keys", "create", "--name", "ha", cwd=tmp_path)  # finds the sentinels
        assert created.returncode == 0, created.stderr
        servers = [p for p in run.children() if "redis-server" in p.name()]
        assert len(servers) == 5  # the primary, the replica, three sentinels
        port, replica = primary_port(run), replica_port(run)
        primary = [p for p in servers if any(c.laddr.port == port for c in p.net_connections())]
        primary[0].kill()
        ready = f"http://127.0.0.1:{run.api_port}/readyz"
        wait_for(lambda: not http_ok(ready), 30, "the api to notice the primary is gone")
        wait_for(lambda: http_ok(ready), 60, "the api and workers on the promoted replica")
        assert run.launcher is not None
        assert run.launcher.poll() is None
        said = "jobcast: redis-primary was killed by SIGKILL (signal 9); if it was the primary, the"
        assert said in run.out.read_text()
        assert not psutil.pid_exists(primary[0].pid)  # reaped, no zombie until the stack stops
        made = jobcast("keys", "create", "--name", "after", cwd=tmp_path)  # on the promoted one
        assert made.returncode == 0, made.stderr

        children = run.children()
        named = {child.pid: " ".join(child.cmdline()[:6]) for child in children}
        # A stop that hangs: the files worker's warm shutdown waits for its pool process, stopped.
        (pool,) = next(c for c in children if "files" in named[c.pid]).children()
        pool.suspend()
        run.launcher.kill()  # no clean stop: its children get their parent-death SIGTERM
        killed = time.monotonic()
        # Each part's stop has the launcher's grace, then it kills its own group (`orphan_watch`).
        alive = still_running(children, STOP_GRACE_SECONDS + 9)
        assert alive == [], [named.get(child.pid) for child in alive]
        assert time.monotonic() - killed >= STOP_GRACE_SECONDS  # the hung one had its grace
        # Another program took the old primary's port meanwhile: the replica it is now.
        with port_held(port):
            run.start()

        # The old primary, stale, was started as the primary again and the replica resynced
        # from it: the key made after the failover was gone (401).
        key = made.stdout.strip().splitlines()[-1]
        me = httpx.get(
            f"http://127.0.0.1:{run.api_port}/data/",
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )
        assert me.status_code == 200
        assert primary_port(run) == replica  # the roles swapped, the primary's address stayed
        # On new ports at each start, an api or worker added by hand from var/redis.sentinels
        # had to be started again with the stack; a taken port moves its server alone.
        assert run.banner("Redis +embedded, Sentinel:") == sentinels
        assert (var / "redis.sentinels").read_text() == sentinels_file
        assert replica_port(run) != port
        assert run.stop() < 10.5
    finally:
        if run.launcher is not None and run.launcher.poll() is None:
            run.stop()
        print(run.out.read_text())


def first_sentinel(run: Run) -> redis.Redis:
    """A client of the stack's first sentinel (the caller closes it)."""
    var = run.project / "var"
    password = json.loads((var / "dev-secrets.json").read_text())["redis_password"]
    first = (var / "redis.sentinels").read_text().split(",")[0]
    return redis.Redis(port=int(first.split(":")[1]), password=password, decode_responses=True)


def down_after_ms(run: Run) -> int:
    """How long the sentinels wait for the primary before calling it down."""
    asked = first_sentinel(run)
    watched = asked.sentinel_master("jobcast")
    asked.close()
    return int(watched["down-after-milliseconds"])


def primary_port(run: Run) -> int:
    """The primary's port, as the first sentinel knows it."""
    asked = first_sentinel(run)
    _, port = asked.sentinel_get_master_addr_by_name("jobcast")
    asked.close()
    return int(port)


def replica_port(run: Run) -> int:
    """The replica's port, as the first sentinel knows it."""
    asked = first_sentinel(run)
    (replica,) = asked.sentinel_slaves("jobcast")
    asked.close()
    return int(replica["port"])


@pytest.mark.parametrize(
    ("host", "shown"),
    [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "127.0.0.1"), ("::1", "[::1]")],
)
def test_the_banner_shows_an_address_to_open_not_a_wildcard_bind(host: str, shown: str) -> None:
    settings = Settings(dev=True).replace(api_host=host, api_port=8100, flower_host=host)
    stack = Stack(settings, UpOptions())
    assert stack.api_url == f"http://{shown}:8100"
    assert stack.flower_url == f"http://{shown}:{settings.flower_port}"


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("JOBCAST_API_PORT", "abc", "JOBCAST_API_PORT: Input should be a valid integer"),
        ("JOBCAST_CORS_ORIGINS", "https://x.example", "list and dict settings are written as JSON"),
        ("JOBCAST_MAX_JSON_BODY_BYTES", "200", "greater than or equal to 1024 (got '200')"),
        (
            "JOBCAST_LOG_LEVEL",
            "LOUD",
            "JOBCAST_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got 'LOUD')",
        ),
    ],
)
def test_a_setting_that_cannot_be_read_is_named_in_one_line(
    tmp_path: Path, variable: str, value: str, said: str
) -> None:
    # Each was a screenful of pydantic's error under a rich traceback.
    for command in (["up"], ["keys", "list"]):
        refused = jobcast(*command, cwd=tmp_path, env={**user_env(), variable: value})
        assert refused.returncode == 2, refused.stderr
        assert "Traceback" not in refused.stderr + refused.stdout
        assert said in " ".join((refused.stderr + refused.stdout).split())
    assert not (tmp_path / "var").exists()  # refused before anything was written


def test_up_against_a_redis_that_does_not_answer_says_so_without_its_password(
    tmp_path: Path,
) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    # Ports of its own: with the defaults it was refused first for a `make run` holding 8000.
    ports = ("--api-port", str(free_port()), "--flower-port", str(free_port()))
    refused = jobcast("up", *ports, cwd=tmp_path, env={**user_env(), "JOBCAST_REDIS_URL": url})
    assert refused.returncode == 1
    said = " ".join(refused.stderr.split())
    assert "cannot reach the Redis at JOBCAST_REDIS_URL (redis://:***@127.0.0.1:" in said
    assert "unset JOBCAST_REDIS_URL for the embedded one" in said
    assert "hunter2" not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr + refused.stdout
    # Refused before anything started or was written: it printed `Stopped.` before its error.
    assert "Stopped." not in refused.stdout
    assert not (tmp_path / "var").exists()


def test_keys_against_an_external_redis_that_does_not_answer_names_the_url_not_the_stack(
    tmp_path: Path,
) -> None:
    """With JOBCAST_REDIS_URL set no `jobcast up` is asked about: it asked "Is `jobcast up`
    running?", which fits only a dev stack's Redis found through its data directory."""
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    env = {**user_env(), "JOBCAST_REDIS_URL": url, "JOBCAST_KEY_SECRET": "k" * 32}
    refused = jobcast("keys", "create", "--name", "q", cwd=tmp_path, env=env)
    said = " ".join(refused.stderr.split())
    assert refused.returncode == 2, said
    assert said.startswith(
        "jobcast error: cannot reach the Redis at JOBCAST_REDIS_URL (redis://:***@"
    )
    assert "jobcast up" not in said
    assert "hunter2" not in refused.stderr + refused.stdout


def test_a_restarted_stack_names_its_workers_as_before(restarted: Restarted) -> None:
    # A new random name each run left Flower (persistent) listing every earlier one, offline.
    def names(cmdlines: str) -> list[str]:  # pool processes show their worker's command line
        return sorted(set(re.findall(r"-n ((?:files|orders)\.\w+@%h)", cmdlines)))

    now = " ".join(" ".join(c.cmdline()) for c in restarted.run.children())
    assert len(names(now)) == 2
    assert names(now) == names(restarted.first_children)


def test_readme_says_what_the_tag_in_the_worker_names_is(tmp_path: Path) -> None:
    # `files.b35631@host` in Flower, and nothing said what the b35631 was or why it was there.
    stack = Stack(Settings(dev=True).replace(data_dir=tmp_path), UpOptions())
    argv = stack._worker_argv("files")
    assert re.fullmatch(r"files\.[0-9a-f]{6}@%h", argv[argv.index("-n") + 1])
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    said = re.search(r"`files\.[0-9a-f]{6}@\w+`.{0,120}hash of the data directory.{0,160}", readme)
    assert said, "README does not explain the workers' names"
    assert "`_stack_tag`" in said.group(0)
    assert "two stacks on one host" in said.group(0)


def test_flower_keeps_each_modes_tasks_apart(tmp_path: Path) -> None:
    # One data dir run plain, then with --ha: Flower's saved state listed the other mode's tasks,
    # whose Redis (`var/redis` against `var/redis/primary`) knows nothing of them.
    settings = Settings(dev=True).replace(data_dir=tmp_path)

    def db(options: UpOptions) -> str:
        (flag,) = [a for a in Stack(settings, options)._flower_argv() if a.startswith("--db=")]
        return flag

    assert db(UpOptions()) != db(UpOptions(ha=True))
    assert db(UpOptions()) == db(UpOptions(workers=2, api_processes=2))  # the same mode's


def test_flower_keeps_the_tasks_of_each_redis_apart(tmp_path: Path) -> None:
    # One data dir run on its embedded Redis, then on the operator's (JOBCAST_REDIS_URL): Flower
    # listed the embedded Redis's tasks, which the other Redis knows nothing of, as its own.
    embedded = Settings(dev=True).replace(data_dir=tmp_path)

    def db(settings: Settings, ha: bool = False) -> str:
        stack = Stack(settings, UpOptions(ha=ha))
        if not (settings.redis_url or settings.sentinels):  # as `start_redis` leaves it
            stack.settings = settings.replace(redis_url="redis://127.0.0.1:41234/0")
        (flag,) = [a for a in stack._flower_argv() if a.startswith("--db=")]
        return flag

    own = db(embedded.replace(redis_url="redis://10.0.0.5:6379/0"))
    assert db(embedded) == f"--db={tmp_path / 'flower' / 'state'}"  # unchanged on its own Redis
    assert own not in {db(embedded), db(embedded, ha=True)}
    assert own != db(embedded.replace(redis_url="redis://10.0.0.5:6379/1"))
    assert own == db(embedded.replace(redis_url="redis://:pw@10.0.0.5:6379/0"))  # same Redis
    sentinels = embedded.replace(redis_sentinels="10.0.0.7:26379,10.0.0.8:26379")
    assert db(sentinels) not in {own, db(embedded, ha=True)}


def test_flower_lists_both_workers_from_its_start_without_a_refresh(
    restarted: Restarted,
) -> None:
    # Flower inspects the workers once, as it starts, and its /api/workers serves that
    # inspection until asked to refresh: started with the workers, it asked before they
    # listened and listed none (`{}`), on every start, logging "Inspect method … failed".
    run = restarted.run
    auth = ("admin", run.banner("Flower password"))
    url = f"http://127.0.0.1:{run.flower_port}/api/workers"

    def listed() -> list[str]:
        return sorted(name.split(".")[0] for name in httpx.get(url, auth=auth, timeout=5).json())

    wait_for(lambda: listed() == ["files", "orders"], 10, "flower to list both workers")
    log = (run.project / "var" / "log" / "flower.log").read_text()  # both starts' lines
    assert "Inspect method" not in log


def test_flower_is_up_before_the_api_says_ready(restarted: Restarted) -> None:
    # Flower sees a task only through the events sent once it listens: started after the api,
    # it missed the jobs of a client that submitted as soon as /readyz answered 200.
    assert restarted.run.flower_before_api is True


@dataclass
class HungUp:
    """An operator's stack (`--no-dev`, its own Flower password, JSON logs, two api processes),
    as seen while up, then stopped by SIGHUP (its terminal closed)."""

    run: Run
    flower_password: str
    #: Flower's answer to the operator's password, and the api's /healthz.
    statuses: tuple[int, int]
    exit_code: int
    left_behind: list[int]


@pytest.fixture(scope="module")
def hung_up(tmp_path_factory: pytest.TempPathFactory) -> HungUp:
    """One stack for what an operator's setup and a closed terminal show (each its own stack,
    they cost a stack start and stop apiece)."""
    project = tmp_path_factory.mktemp("operated")
    password = secrets.token_urlsafe(16)
    env = JSON_LOGS | {
        "JOBCAST_FLOWER_PASSWORD": password,
        "JOBCAST_KEY_SECRET": secrets.token_urlsafe(32),
        "JOBCAST_REDIS_PASSWORD": secrets.token_urlsafe(16),
    }
    options = ("--no-dev", "--api-processes", "2")
    out = project / "launcher.out"
    run = Run(project, free_port(), free_port(), out, options=options, env=env)
    run.start()
    try:
        flower = f"http://127.0.0.1:{run.flower_port}/"
        statuses = (
            httpx.get(flower, auth=("admin", password), timeout=5).status_code,
            httpx.get(run.api_url("/healthz"), timeout=5).status_code,
        )
        children = run.children()
        assert run.launcher is not None
        run.launcher.send_signal(signal.SIGHUP)
        exit_code = run.launcher.wait(timeout=20)
    finally:
        if run.launcher is not None and run.launcher.poll() is None:
            run.stop()
    left = [p.pid for p in still_running(children, 5)]
    return HungUp(run, password, statuses, exit_code, left)


def test_a_closed_terminal_stops_the_stack_in_order_as_ctrl_c_does(hung_up: HungUp) -> None:
    # SIGHUP killed the launcher at once; its children each got a parent-death SIGTERM.
    assert hung_up.exit_code == 0
    assert hung_up.run.out.read_text().rstrip().endswith("Stopping every process…\nStopped.")
    assert hung_up.left_behind == []


def test_with_json_logs_every_line_of_every_python_process_is_json(hung_up: HungUp) -> None:
    # The api's uvicorn lines, the workers' and Flower's were text; with several api processes
    # uvicorn's supervising one too, which never loads the app.
    assert hung_up.statuses[1] == 200
    var = hung_up.run.project / "var"
    logs = sorted((var / "log").glob("*.log"))
    assert {log.name for log in logs} >= {"api.log", "flower.log", "worker-files.log"}
    for log in logs:
        if log.name.startswith("redis"):
            continue  # Redis' own log, in its own format
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        assert lines, log
        for line in lines:
            assert isinstance(json.loads(line), dict), f"{log.name}: {line}"
    api_log = (var / "log" / "api.log").read_text()
    assert "Started parent process" in api_log


def test_a_flower_password_the_operator_set_is_named_not_printed(hung_up: HungUp) -> None:
    # `--no-dev` printed the operator's own password in the banner, into journald and any
    # log collector reading it; only the one dev mode generates is the banner's to show.
    assert hung_up.statuses[0] == 200
    assert hung_up.flower_password not in hung_up.run.out.read_text()
    assert hung_up.run.banner("Flower password") == "(JOBCAST_FLOWER_PASSWORD)"


def test_up_names_a_misspelt_setting_before_anything_else(tmp_path: Path) -> None:
    # It was ignored without a word: the stack ran on the default.
    env = {**user_env(), "JOBCAST_LOG_LEVL": "DEBUG", "JOBCAST_API_PORT": "abc"}
    refused = jobcast("up", cwd=tmp_path, env=env)
    assert refused.returncode == 2  # for the port; the misspelt name is said first
    said = " ".join(refused.stderr.split())
    assert said.startswith(
        "jobcast warning: JOBCAST_LOG_LEVL is not a Jobcast setting and is ignored; did you "
        "mean JOBCAST_LOG_LEVEL?"
    ), refused.stderr
