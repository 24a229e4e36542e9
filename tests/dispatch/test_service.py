"""`followup serve` and `followup worker` as real processes: what they print, how they stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MONDAY_MORNING = "2026-03-23T08:00:30+01:00"  # the clock starts just after 08:00 in Belgrade


@pytest.fixture
def database_url(tmp_path) -> str:
    """Process behaviour, not storage: SQLite only."""
    return f"sqlite:///{tmp_path / 'followup.db'}"


@pytest.fixture
def port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sim_extra(port) -> str:
    return f'[web]\nport = {port}\nbase_url = "http://127.0.0.1:{port}"\n\n[dispatch]\ninterval_seconds = 1\n'


class Process:
    """A `followup` subprocess whose output is collected as it comes."""

    def __init__(self, config: Path, *args: str, env: dict | None = None) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "followup", "--config", str(config), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(s, t), daemon=True)
            for s, t in ((self.popen.stdout, self.out), (self.popen.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in "".join(self.out):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{text!r} never printed; out={''.join(self.out)} err={''.join(self.err)}"
                )
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        self.popen.send_signal(sig)
        code = self.popen.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture
def processes():
    started: list[Process] = []

    def start(*args, **kwargs) -> Process:
        process = Process(*args, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def get(url: str, timeout: float = 20) -> int:
    """The status of a GET, once the server is listening."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                return reply.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_serve_prints_where_to_look_then_reminders_as_they_fall_due_and_stops_cleanly_on_sigterm(
    cohort, processes, port
):
    serve = processes(cohort.path, "serve", "--now", MONDAY_MORNING)
    serve.wait_for("followup is running.")
    banner = "".join(serve.out)
    assert f"Web:        http://127.0.0.1:{port}/login" in banner
    assert f"Database:   sqlite:///{cohort.folder}/followup.db" in banner
    assert "Messages:   console" in banner and "sms not set up" in banner
    serve.wait_for("----- message reminder:")
    assert get(f"http://127.0.0.1:{port}/healthz") == 200
    assert serve.stop() == 0
    out = "".join(serve.out)
    assert out.rstrip().endswith("followup stopped.")
    assert out.count("----- message ") == 4  # F1's and PS1's reminders and digests
    assert "Subject: Razgovor za praćenje danas: predmet BG-2, Two-week call" in out


def test_serve_refuses_to_start_without_the_key_when_partner_data_exists(cohort, processes):
    serve = processes(cohort.path, "serve", env={"FOLLOWUP_SECRET_KEY": ""})
    assert serve.popen.wait(20) == 1
    for reader in serve._readers:
        reader.join(5)
    assert "".join(serve.err) == (
        f"Error: {cohort.folder}/followup.key: no encryption key for partner data. Hint: set "
        "FOLLOWUP_SECRET_KEY, restore the key file, or run `followup init` for a new deployment\n"
    )
    assert serve.out == []


def test_serve_says_so_in_one_line_when_its_port_is_taken(cohort, processes, port):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        serve = processes(cohort.path, "serve")
        assert serve.popen.wait(20) == 1
    for reader in serve._readers:
        reader.join(5)
    assert "".join(serve.err).startswith(
        f"Error: {cohort.path}: web.port: cannot listen on 127.0.0.1:{port} ("
    )
    assert len(serve.err) == 1


def test_the_production_split_web_only_and_a_worker_that_only_dispatches(cohort, processes, port):
    web = processes(cohort.path, "serve", "--no-scheduler", "--now", MONDAY_MORNING)
    web.wait_for("Reminders:  not sent here (run `followup worker` for them)")
    assert get(f"http://127.0.0.1:{port}/healthz") == 200
    worker = processes(cohort.path, "worker", "--now", MONDAY_MORNING)
    worker.wait_for("Web:        not served here")
    worker.wait_for("----- message digest:")
    assert worker.stop() == 0 and web.stop() == 0
    assert "----- message" not in "".join(web.out)
    assert "".join(worker.out).count("----- message ") == 4
