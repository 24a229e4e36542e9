"""The fake Twilio as its own process, as a multi-process dispatch test runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from followup.channels.base import OutgoingMessage, TransportError
from followup.channels.sms import SmsChannel
from tests.support.fake_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    control,
    read_record,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    record = tmp_path / "sent.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.fake_twilio",
            "--port",
            "0",
            "--record",
            str(record),
            "--reject",
            "+381600000001=21610",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()  # printed once the server accepts requests
        assert ready.startswith("fake_twilio listening on http://127.0.0.1:"), ready
        yield ready.split()[-1], record, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_it_records_each_accepted_message_as_a_json_line(
    standalone: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, record, process = standalone
    channel = SmsChannel(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM, api_base=url)
    sids = [
        channel.send(OutgoingMessage(f"k{i}", "+381641234567", "", f"reminder {i}")).provider_id
        for i in range(3)
    ]
    # Flushed per message: readable while the server still runs.
    lines = list(read_record(record))
    assert [line["sid"] for line in lines] == sids
    assert [line["body"] for line in lines] == ["reminder 0", "reminder 1", "reminder 2"]
    assert lines[0]["to"] == "+381641234567" and lines[0]["from"] == DEFAULT_FROM

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_its_failure_modes_are_driven_over_http(
    standalone: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, record, _process = standalone
    channel = SmsChannel(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM, api_base=url)

    def send(to: str = "+381641234567") -> TransportError | None:
        try:
            channel.send(OutgoingMessage("k", to, "", "reminder"))
        except TransportError as error:
            return error
        return None

    assert control(url, "fail_next", n=1, status=429, retry_after=5) == {"ok": True}
    error = send()
    assert error is not None and (error.permanent, error.retry_after) == (False, 5.0)

    control(url, "down")
    assert (error := send()) is not None and error.permanent is False
    control(url, "recover")
    assert send() is None

    rejected = send("+381600000001")  # from --reject on the command line
    assert rejected is not None and rejected.permanent and rejected.code == "21610"

    assert send() is None
    stats = control(url, "stats")
    assert stats["accepted"] == 2
    assert stats["attempts"] == 5
    assert stats["duplicates"] == [{"to": "+381641234567", "body": "reminder", "count": 2}]
    assert len(list(read_record(record))) == 2
