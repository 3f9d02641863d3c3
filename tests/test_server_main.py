"""`nix-humanity-ls` command line: version, argument errors, TCP transport and the log file."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from nix_humanity_ls import __version__

SERVER = [sys.executable, "-m", "nix_humanity_ls"]


def test_version_and_bad_tcp_argument():
    version = subprocess.run([*SERVER, "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert version.returncode == 0
    assert version.stdout.strip() == f"nix-humanity-ls {__version__}"
    bad = subprocess.run([*SERVER, "--tcp", "localhost"], capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "expected HOST:PORT" in bad.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def _read_message(stream) -> dict:
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stream.read(length))


def _connect(port: int, process: subprocess.Popen) -> socket.socket:
    """The server needs a moment to listen; retry a bounded number of times."""
    for _ in range(200):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            assert process.poll() is None, "server exited before listening"
            time.sleep(0.05)
    raise AssertionError("server never listened")


def test_tcp_transport_answers_initialize_and_logs_to_file(tmp_path: Path):
    port = _free_port()
    log_file = tmp_path / "server.log"
    process = subprocess.Popen(
        [*SERVER, "--tcp", f"127.0.0.1:{port}", "--log-file", str(log_file), "--log-level", "debug"],
        stderr=subprocess.PIPE,
    )
    try:
        with _connect(port, process) as connection:
            stream = connection.makefile("rwb")
            stream.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                 "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
            stream.flush()
            reply = _read_message(stream)
            assert reply["id"] == 1
            assert reply["result"]["serverInfo"] == {"name": "nix-humanity-ls", "version": __version__}
            assert reply["result"]["capabilities"]["positionEncoding"] == "utf-16"
            assert reply["result"]["capabilities"]["textDocumentSync"]["change"] == 2
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert log_file.exists()
    log_text = log_file.read_text()
    assert f"nix-humanity-ls {__version__} listening on 127.0.0.1:{port}" in log_text
    assert "initialize from an unnamed client; positions in utf-16" in log_text
