"""Latency benchmark of the language server over stdio, the way an editor talks to it.

    python -m bench.bench_server [--sizes 100 1000 10000] [--runs 15] [--cold-runs 10]

For each size a realistic configuration is generated (bench/generate.py) and checked with tree-sitter and
`nix-instantiate --parse`. A small LSP client built here (asyncio subprocess, Content-Length framing, JSON;
no pygls or pytest-lsp on the client side, so their overhead stays out of the numbers) then measures cold
start, open → diagnostics, a one-character edit → diagnostics, and a few requests, and prints a Markdown
table of medians and p90s with the targets. An in-process breakdown (no server, no pipes) follows, splitting
the work one edit and one open cost into their parts, including pygls's own copy of the document.
See bench/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .generate import check, edit_target, generate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
TIMEOUT = 60.0  # seconds for any single wait; a hang fails the run instead of blocking it

# targets for the 10,000-line file (ms); smaller files are held to the same numbers
TARGETS = {"cold_start": 400.0, "open_diag": 40.0, "change_string": 10.0, "change_identifier": 10.0}

Message = dict[str, Any]


# -- a minimal LSP client -----------------------------------------------------------------------------


class LspError(RuntimeError):
    pass


class LspClient:
    """JSON-RPC over a subprocess's stdin/stdout. Every received message is timestamped the moment its body
    has been read, before JSON decoding, so client-side decoding stays out of the measurements."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr_path: Path) -> None:
        self.proc = proc
        self.stderr_path = stderr_path
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[tuple[float, int, Message]]] = {}
        self._waiters: list[tuple[Callable[[Message], bool], asyncio.Future[tuple[float, Message]]]] = []
        self._closed: LspError | None = None  # set when the server's output ended
        self._reader = asyncio.create_task(self._read_loop())

    @classmethod
    async def spawn(cls, cmd: list[str], stderr_path: Path, env: dict[str, str] | None = None) -> LspClient:
        stderr = open(stderr_path, "ab")  # noqa: SIM115 - closed with the process
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr,
                limit=64 * 1024 * 1024, cwd=stderr_path.parent, env=env,
            )
        finally:
            stderr.close()
        return cls(proc, stderr_path)

    async def _read_loop(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            while True:
                length = None
                while True:
                    line = await out.readline()
                    if not line:
                        raise EOFError
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length is None:
                    raise LspError("message without Content-Length")
                body = await out.readexactly(length)
                received = time.perf_counter()
                self._dispatch(received, length, json.loads(body))
        except (EOFError, asyncio.IncompleteReadError):
            error = LspError(f"server closed its output; stderr tail:\n{self.stderr_tail()}")
        except Exception as exc:  # noqa: BLE001 - every waiter must learn about it
            error = LspError(f"reader failed: {exc!r}")
        self._closed = error
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(error)
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(error)

    def _dispatch(self, received: float, size: int, msg: Message) -> None:
        if "method" not in msg:  # a response
            fut = self._pending.pop(msg.get("id"), None)
            if fut is not None and not fut.done():
                fut.set_result((received, size, msg))
            return
        if "id" in msg:  # a request from the server: accept it with a null result
            self._write({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            return
        for entry in list(self._waiters):
            predicate, fut = entry
            if not fut.done() and predicate(msg):
                fut.set_result((received, msg))
                self._waiters.remove(entry)

    def stderr_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no stderr)"

    def _write(self, msg: Message) -> None:
        body = json.dumps(msg, separators=(",", ":")).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def send(self, msg: Message) -> float:
        """Write one message; returns the time just before writing (encoding is done by then)."""
        body = json.dumps(msg, separators=(",", ":")).encode()
        data = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        assert self.proc.stdin is not None
        sent = time.perf_counter()
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()
        return sent

    async def request_raw(self, method: str, params: Any) -> tuple[float, float, int, Any]:
        """(time sent, time the response was read, response size in bytes, result)."""
        self._next_id += 1
        fut: asyncio.Future[tuple[float, int, Message]] = asyncio.get_running_loop().create_future()
        if self._closed:
            raise self._closed
        self._pending[self._next_id] = fut
        sent = await self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        received, size, msg = await asyncio.wait_for(fut, TIMEOUT)
        if "error" in msg:
            raise LspError(f"{method} failed: {msg['error']}")
        return sent, received, size, msg.get("result")

    async def request(self, method: str, params: Any) -> tuple[float, int, Any]:
        """(seconds from send to response, response size in bytes, result)."""
        sent, received, size, result = await self.request_raw(method, params)
        return received - sent, size, result

    async def notify(self, method: str, params: Any) -> float:
        return await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def expect(self, predicate: Callable[[Message], bool]) -> asyncio.Future[tuple[float, Message]]:
        """Register interest in a notification *before* sending what causes it."""
        fut: asyncio.Future[tuple[float, Message]] = asyncio.get_running_loop().create_future()
        if self._closed:
            raise self._closed
        self._waiters.append((predicate, fut))
        return fut

    async def close(self) -> None:
        """shutdown + exit, then wait for the process (killed if it lingers)."""
        try:
            if self.proc.returncode is None:
                await self.request("shutdown", None)
                await self.notify("exit", None)
                await asyncio.wait_for(self.proc.wait(), 10)
        except (LspError, asyncio.TimeoutError, BrokenPipeError, ConnectionResetError):
            pass
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
            self._reader.cancel()


def diagnostics_for(uri: str, version: int | None) -> Callable[[Message], bool]:
    def match(msg: Message) -> bool:
        params = msg.get("params") or {}
        return (
            msg.get("method") == "textDocument/publishDiagnostics"
            and params.get("uri") == uri
            and params.get("version") == version
        )

    return match


INIT_PARAMS: Message = {
    "processId": os.getpid(),
    "rootUri": ROOT.as_uri(),
    "clientInfo": {"name": "bench_server", "version": "1"},
    "capabilities": {
        "general": {"positionEncodings": ["utf-16"]},
        "textDocument": {
            "synchronization": {"didSave": True, "dynamicRegistration": False},
            "publishDiagnostics": {"versionSupport": True, "relatedInformation": True},
            "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
            "foldingRange": {"lineFoldingOnly": True},
            "selectionRange": {},
        },
        "window": {"workDoneProgress": True},
    },
}


async def initialize(client: LspClient) -> float:
    elapsed, _, _ = await client.request("initialize", INIT_PARAMS)
    await client.notify("initialized", {})
    return elapsed


async def open_document(client: LspClient, uri: str, text: str, version: int = 1) -> tuple[float, Message]:
    """didOpen → the publishDiagnostics for that version; (seconds, that notification)."""
    fut = client.expect(diagnostics_for(uri, version))
    sent = await client.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "nix", "version": version, "text": text}}
    )
    received, msg = await asyncio.wait_for(fut, TIMEOUT)
    msg["_received"] = received
    return received - sent, msg


async def close_document(client: LspClient, uri: str) -> None:
    fut = client.expect(diagnostics_for(uri, None))
    await client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    await asyncio.wait_for(fut, TIMEOUT)


# -- statistics and formatting ------------------------------------------------------------------------


def summary(samples: list[float]) -> dict[str, float]:
    """Median and p90 (nearest rank) in milliseconds."""
    ms = sorted(s * 1000 for s in samples)
    if not ms:
        return {"median": math.nan, "p90": math.nan, "n": 0}
    return {"median": statistics.median(ms), "p90": ms[max(math.ceil(0.9 * len(ms)) - 1, 0)], "n": len(ms)}


def fmt_ms(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def cell(stats: dict[str, float] | None, target: float | None = None) -> str:
    if not stats:
        return "n/a"
    text = f"{fmt_ms(stats['median'])} / {fmt_ms(stats['p90'])}"
    if target is not None:
        text += f" (<{target:g} {'✓' if stats['median'] < target else '✗ MISS'})"
    return text


# -- the measurements ---------------------------------------------------------------------------------


OPS = ("cold", "open", "change", "requests", "nix")


async def bench_size(
    lines: int, text: str, cmd: list[str], runs: int, cold_runs: int, workdir: Path, main_cmd: list[str] | None,
    ops: tuple[str, ...] = OPS, env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Cold starts with `cmd`; then one session (with `main_cmd` when given, e.g. profiled) for the rest."""
    stderr_path = workdir / f"server-cold-{lines}.stderr"
    result: dict[str, Any] = {"lines": len(text.splitlines()), "bytes": len(text.encode())}
    uri = f"file:///bench/{lines}/configuration.nix"

    # cold start: spawn → initialize result; and on to the first diagnostics of this file
    cold, cold_diag = [], []
    for _ in range(cold_runs if "cold" in ops else 0):
        start = time.perf_counter()
        client = await LspClient.spawn(cmd, stderr_path, env)
        try:
            _, received, _, _ = await client.request_raw("initialize", INIT_PARAMS)
            cold.append(received - start)
            await client.notify("initialized", {})
            _, msg = await open_document(client, uri, text)
            cold_diag.append(msg["_received"] - start)
        finally:
            await client.close()
    if cold:
        result["cold_start"], result["cold_first_diag"] = cold, cold_diag

    client = await LspClient.spawn(main_cmd or cmd, workdir / f"server-main-{lines}.stderr", env)
    try:
        await initialize(client)

        # open → diagnostics, each run a new URI (closed again afterwards); the first run is a warm-up
        opens = []
        for k in range(runs + 1 if "open" in ops else 0):
            other = f"file:///bench/{lines}/open{k}.nix"
            elapsed, msg = await open_document(client, other, text)
            if msg["params"]["diagnostics"]:
                raise LspError(f"the generated {lines}-line file has diagnostics: {msg['params']['diagnostics'][:2]}")
            if k:
                opens.append(elapsed)
            await close_document(client, other)
        if opens:
            result["open_diag"] = opens

        # one-character edits → diagnostics, alternating insert and delete so the text stays valid
        _, _ = await open_document(client, uri, text)
        version = 1
        for kind in ("string", "identifier") if "change" in ops else ():
            line, char = edit_target(text, kind)
            samples, dirty = [], 0
            edits = runs + 1 + (runs + 1) % 2  # an even number, so the text ends as it began
            for k in range(edits):
                version += 1
                insert = k % 2 == 0
                end = {"line": line, "character": char + (0 if insert else 1)}
                change = {"range": {"start": {"line": line, "character": char}, "end": end}, "text": "x" if insert else ""}
                fut = client.expect(diagnostics_for(uri, version))
                sent = await client.notify(
                    "textDocument/didChange",
                    {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
                )
                received, msg = await asyncio.wait_for(fut, TIMEOUT)
                dirty += bool(msg["params"]["diagnostics"])
                if k:
                    samples.append(received - sent)
            if dirty:
                print(f"warning: {dirty} {kind} edits produced diagnostics (the edit broke the file?)", file=sys.stderr)
            result[f"change_{kind}"] = samples

        # requests
        doc_id = {"uri": uri}
        line, char = edit_target(text, "string")
        requests = {
            "document_symbol": ("textDocument/documentSymbol", {"textDocument": doc_id}),
            "folding_range": ("textDocument/foldingRange", {"textDocument": doc_id}),
            "selection_range": (
                "textDocument/selectionRange",
                {"textDocument": doc_id, "positions": [{"line": line, "character": char}]},
            ),
        }
        for key, (method, params) in requests.items() if "requests" in ops else ():
            samples, size, count = [], 0, 0
            for k in range(runs + 1):
                elapsed, size, res = await client.request(method, params)
                count = len(res or [])
                if k:
                    samples.append(elapsed)
            result[key] = samples
            result[f"{key}_bytes"], result[f"{key}_items"] = size, count

        result["peak_rss_kb"], result["rss_kb"] = read_rss(client.proc.pid)
    finally:
        await client.close()
    return result


def read_rss(pid: int) -> tuple[int | None, int | None]:
    """(VmHWM, VmRSS) in kB from /proc; None where /proc is not available."""
    found: dict[str, int] = {}
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = row.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = int(value.split()[0])
    except OSError:
        pass
    return found.get("VmHWM"), found.get("VmRSS")


def bench_nix_parse(path: Path, runs: int) -> list[float] | None:
    exe = shutil.which("nix-instantiate")
    if exe is None:
        return None
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([exe, "--parse", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return samples


# -- in-process breakdown -----------------------------------------------------------------------------


def _timeit(fn: Callable[[int], object], runs: int) -> list[float]:
    samples = []
    for k in range(runs + 1):
        start = time.perf_counter()
        fn(k)
        if k:
            samples.append(time.perf_counter() - start)
    return samples


def breakdown(text: str, runs: int) -> dict[str, list[float]]:
    """The parts of one open and one edit, timed in this process (no server, no pipes)."""
    from lsprotocol import types
    from pygls.workspace import TextDocument

    from nix_humanity_ls.ide.diagnostics import document_problems
    from nix_humanity_ls.ide.folding import folding_ranges
    from nix_humanity_ls.ide.symbols import document_symbols
    from nix_humanity_ls.lsp import convert
    from nix_humanity_ls.syntax import parser
    from nix_humanity_ls.syntax.document import Change, Document, Position, PositionEncoding

    line, char = edit_target(text, "string")
    enc = PositionEncoding.UTF16
    out: dict[str, list[float]] = {}
    source = text.encode()

    out["open: pygls TextDocument(...) (stores the str)"] = _timeit(lambda k: TextDocument("file:///x.nix", text, 1), runs)
    out["open: Document(...) (full parse + line table)"] = _timeit(lambda k: Document("file:///x.nix", text, 1), runs)
    out["open: tree-sitter full parse alone"] = _timeit(lambda k: parser.parse(source), runs)

    def lsp_change(k: int) -> types.TextDocumentContentChangePartial:
        insert = k % 2 == 0
        rng = types.Range(types.Position(line, char), types.Position(line, char + (0 if insert else 1)))
        return types.TextDocumentContentChangePartial(range=rng, text="x" if insert else "")

    pygls_doc = TextDocument("file:///x.nix", text, 1)
    out["change: pygls TextDocument.apply_change"] = _timeit(lambda k: pygls_doc.apply_change(lsp_change(k)), runs)

    doc = Document("file:///x.nix", text, 1)

    def our_change(k: int) -> None:
        insert = k % 2 == 0
        doc.apply([Change("x" if insert else "", Position(line, char), Position(line, char + (0 if insert else 1)))],
                  k + 2, enc)

    out["change: Document.apply (edit + line table + reparse)"] = _timeit(our_change, runs + (runs + 1) % 2)

    # a didChange carrying 50 changes (multi-cursor typing, an applied workspace edit): pygls applies each
    # change to the whole text; Document.apply splices each one but reparses once
    def batch(k: int) -> list[types.TextDocumentContentChangePartial]:
        at = types.Position(line, char)
        if k % 2 == 0:
            return [types.TextDocumentContentChangePartial(range=types.Range(at, at), text="x") for _ in range(50)]
        return [types.TextDocumentContentChangePartial(range=types.Range(at, types.Position(line, char + 50)), text="")]

    def pygls_batch(k: int) -> None:
        for change in batch(k):
            pygls_doc.apply_change(change)

    def our_batch(k: int) -> None:
        doc.apply([convert.change(c) for c in batch(k)], 1000 + k, enc)

    both = _timeit(pygls_batch, 2 * runs + 1)
    out["change x50 in one didChange: pygls apply_change x50"] = both[1::2]  # the 50-insert batches only
    both = _timeit(our_batch, 2 * runs + 1)
    out["change x50 in one didChange: Document.apply"] = both[1::2]

    tree = doc.tree
    offset = doc.offset_at(Position(line, char), enc)
    point = doc.point_at(offset)

    def reparse(k: int) -> None:
        nonlocal tree, source
        insert = k % 2 == 0
        new = source[:offset] + b"x" + source[offset:] if insert else source[:offset] + source[offset + 1 :]
        end = offset + 1
        tree.edit(offset, offset if insert else end, end if insert else offset,
                  point, point if insert else (point[0], point[1] + 1), (point[0], point[1] + 1) if insert else point)
        tree = parser.parse(new, tree)
        source = new

    out["change: tree-sitter incremental reparse alone"] = _timeit(reparse, runs + (runs + 1) % 2)
    out["change: document_problems (clean file)"] = _timeit(lambda k: document_problems(doc), runs)

    from nix_humanity_ls.lsp.server import server  # the real server object, for its JSON serialisation

    params = types.PublishDiagnosticsParams(uri="file:///x.nix", diagnostics=[], version=1)
    serialise = server.protocol._serialize_message  # what pygls's _send_data passes to json.dumps
    out["change: serialise publishDiagnostics (pygls)"] = _timeit(lambda k: json.dumps(params, default=serialise), runs)

    symbols = document_symbols(doc)
    out["documentSymbol: document_symbols (core)"] = _timeit(lambda k: document_symbols(doc), runs)
    out["documentSymbol: convert to lsprotocol"] = _timeit(
        lambda k: [convert.document_symbol(doc, s, enc) for s in symbols], runs
    )
    lsp_symbols = [convert.document_symbol(doc, s, enc) for s in symbols]
    out["documentSymbol: serialise (pygls)"] = _timeit(lambda k: json.dumps(lsp_symbols, default=serialise), runs)
    out["foldingRange: folding_ranges (core)"] = _timeit(lambda k: folding_ranges(doc), runs)
    return out


# -- report -------------------------------------------------------------------------------------------

COLUMNS = [
    ("cold_start", "cold start", "cold_start"),
    ("cold_first_diag", "cold → 1st diag", None),
    ("open_diag", "open → diag", "open_diag"),
    ("change_string", "change → diag (string)", "change_string"),
    ("change_identifier", "change → diag (ident)", "change_identifier"),
    ("document_symbol", "documentSymbol", None),
    ("folding_range", "foldingRange", None),
    ("selection_range", "selectionRange", None),
    ("nix_parse", "nix-instantiate --parse", None),
]


def markdown(results: list[dict[str, Any]]) -> str:
    head = ["lines", "kB"] + [title for _, title, _ in COLUMNS] + ["peak RSS MB"]
    rows = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    for res in results:
        cells = [str(res["lines"]), f"{res['bytes'] / 1000:.0f}"]
        for key, _, target_key in COLUMNS:
            samples = res.get(key)
            cells.append(cell(summary(samples) if samples else None, TARGETS.get(target_key) if target_key else None))
        rss = res.get("peak_rss_kb")
        cells.append(f"{rss / 1024:.0f}" if rss else "n/a")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def breakdown_markdown(parts: dict[int, dict[str, list[float]]]) -> str:
    sizes = sorted(parts)
    rows = ["| in-process step (median / p90 ms) | " + " | ".join(f"{s} lines" for s in sizes) + " |",
            "|---|" + "|".join("---:" for _ in sizes) + "|"]
    for step in parts[sizes[0]]:
        rows.append(f"| {step} | " + " | ".join(cell(summary(parts[s][step])) for s in sizes) + " |")
    return "\n".join(rows)


def environment() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ("nix-humanity-ls", "pygls", "lsprotocol", "cattrs", "tree-sitter", "tree-sitter-nix"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "nix_humanity_ls"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = None, None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": commit,
        "package_dirty": dirty,
        "versions": versions,
    }


def server_env(args: argparse.Namespace) -> dict[str, str]:
    """The server's environment. By default bytecode caching is switched on, into a private folder
    (PYTHONPYCACHEPREFIX, so nothing is written into the repository), because an installed server has its
    .pyc files: a shell with PYTHONDONTWRITEBYTECODE=1 would otherwise make every cold start recompile the
    package's own modules from source (about 50 ms here)."""
    env = dict(os.environ)
    # the server runs in the temp folder, not the repository, so that `python -m` imports the installed
    # package (or whatever PYTHONPATH names first, e.g. an exported older commit); the repository comes last
    # on the path only so that `-m bench.timed_server` is found
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(ROOT)]))
    if not args.no_pyc_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "nhls-bench-pycache")
    return env


async def warm_up(cmd: list[str], workdir: Path, env: dict[str, str]) -> None:
    """One unmeasured start: fills the OS page cache and, with the .pyc cache on, writes the .pyc files."""
    client = await LspClient.spawn(cmd, workdir / "warm-up.stderr", env)
    try:
        await initialize(client)
    finally:
        await client.close()


def timed_summary(path: Path) -> dict[str, dict[str, float]]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {label: {**summary(samples), "total_ms": sum(samples) * 1000} for label, samples in raw.items()}


def timed_markdown(timed: dict[int, dict[str, dict[str, float]]]) -> str:
    rows = []
    for lines, steps in timed.items():
        rows += [f"\n### {lines} lines\n", "| step | calls | median ms | p90 ms |", "|---|---:|---:|---:|"]
        for label, st in sorted(steps.items(), key=lambda kv: -kv[1]["median"]):
            rows.append(f"| {label} | {st['n']} | {fmt_ms(st['median'])} | {fmt_ms(st['p90'])} |")
    return "\n".join(rows)


def server_package(cmd: list[str], env: dict[str, str]) -> str | None:
    """Where the server's Python finds `nix_humanity_ls` (it may be an exported commit named by PYTHONPATH)."""
    try:
        out = subprocess.run([cmd[0], "-c", "import nix_humanity_ls as m; print(m.__file__)"], env=env,
                             cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=30)
        return str(Path(out.stdout.strip()).parent) if out.returncode == 0 else None
    except OSError:
        return None


async def run(args: argparse.Namespace) -> int:
    cmd = shlex.split(args.server_cmd) if args.server_cmd else [sys.executable, "-m", "nix_humanity_ls"]
    env = server_env(args)
    # the in-process breakdown should import the same package as the server: honour PYTHONPATH before the
    # current directory (which `python -m` put first on sys.path)
    for entry in reversed([e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e]):
        sys.path.insert(0, entry)
    package = server_package(cmd, env)
    print(f"server package: {package}", file=sys.stderr)
    results, parts, timed = [], {}, {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nhls-bench-") as tmp:
        workdir = Path(tmp)
        await warm_up(cmd, workdir, env)
        for lines in args.sizes:
            text = generate(lines, args.seed)
            check(text)  # the file must be valid Nix for both tree-sitter and Nix, or the numbers mean little
            path = workdir / f"configuration-{lines}.nix"
            path.write_text(text)
            main_cmd = None
            if args.timed:
                main_cmd = [sys.executable, "-m", "bench.timed_server"]
                env = {**env, "NHLS_TIMINGS": str(workdir / f"timings-{lines}.json")}
            if args.profile_dir:
                args.profile_dir.mkdir(parents=True, exist_ok=True)
                prof = args.profile_dir.resolve() / f"server-{lines}.prof"
                base = main_cmd or cmd
                main_cmd = [base[0], "-m", "cProfile", "-o", str(prof)] + base[1:] if base[1:2] == ["-m"] else None
                if main_cmd is None:
                    print("--profile-dir needs a `python -m module` server command", file=sys.stderr)
            print(f"[{time.perf_counter() - started:5.1f}s] {lines} lines ({len(text.encode()) / 1000:.0f} kB)...",
                  file=sys.stderr)
            res = await bench_size(lines, text, cmd, args.runs, args.cold_runs, workdir, main_cmd, tuple(args.ops), env)
            if "nix" in args.ops:
                res["nix_parse"] = bench_nix_parse(path, args.runs)
            results.append(res)
            if args.timed:
                timed[lines] = timed_summary(workdir / f"timings-{lines}.json")
            if not args.no_breakdown:
                try:
                    parts[lines] = breakdown(text, args.runs)
                except Exception as error:  # noqa: BLE001 - it reaches into internals that may have moved
                    print(f"in-process breakdown skipped: {error!r}", file=sys.stderr)
    total = time.perf_counter() - started

    print(f"\n## Server over stdio (median / p90 in ms; runs: {args.runs}, cold starts: {args.cold_runs})\n")
    print(f"Server package: `{package}`\n")
    if args.profile_dir:
        print("**Profiled run: the main-session numbers include cProfile overhead.**\n")
    print(markdown(results))
    print("\nTargets (10,000-line file, medians): cold start < 400 ms, open → diag < 40 ms, change → diag < 10 ms.")
    for res in results:
        if "document_symbol_items" not in res or "rss_kb" not in res:
            continue
        print(f"- {res['lines']} lines: documentSymbol returns {res['document_symbol_items']} top-level symbols "
              f"({res['document_symbol_bytes'] / 1000:.0f} kB), foldingRange {res['folding_range_items']} ranges "
              f"({res['folding_range_bytes'] / 1000:.0f} kB); RSS at end {(res.get('rss_kb') or 0) / 1024:.0f} MB")
    if parts:
        print("\n## In-process breakdown (median / p90 in ms)\n")
        print(breakdown_markdown(parts))
    if timed:
        print("\n## Inside the server (--timed: perf_counter around pygls and core steps, whole session)")
        print(timed_markdown(timed))
    print(f"\n(total {total:.0f} s)")

    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        out = args.json or RESULTS / f"bench-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
        payload = {
            "environment": {**environment(), "server_package": package},
            "args": {"sizes": args.sizes, "runs": args.runs, "ops": args.ops, "cold_runs": args.cold_runs, "server_cmd": cmd,
                     "profiled": bool(args.profile_dir), "timed": args.timed, "pyc_cache": not args.no_pyc_cache},
            "targets_ms": TARGETS,
            "results": [
                {**{k: v for k, v in res.items() if not isinstance(v, list)},
                 **{k: {"samples_ms": [s * 1000 for s in v], **summary(v)} for k, v in res.items() if isinstance(v, list)}}
                for res in results
            ],
            "timed": {str(lines): steps for lines, steps in timed.items()},
            "breakdown": {str(lines): {step: summary(v) for step, v in steps.items()} for lines, steps in parts.items()},
            "total_seconds": total,
        }
        Path(out).write_text(json.dumps(payload, indent=2))
        print(f"(JSON written to {out})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_server", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000], help="lines per generated file")
    ap.add_argument("--runs", type=int, default=15, help="measured runs of each cheap operation (default 15)")
    ap.add_argument("--cold-runs", type=int, default=10, help="cold starts per size (default 10)")
    ap.add_argument("--seed", type=int, default=0, help="generator seed")
    ap.add_argument("--ops", nargs="+", choices=OPS, default=list(OPS),
                    help="which measurements to run (default: all); e.g. `--ops change` to profile edits alone")
    ap.add_argument("--server-cmd", help="server command line (default: this Python with -m nix_humanity_ls)")
    ap.add_argument("--profile-dir", type=Path, help="run the main session's server under cProfile, writing "
                    "DIR/server-<lines>.prof (the timings then include profiler overhead)")
    ap.add_argument("--timed", action="store_true", help="run the main session's server as bench.timed_server "
                    "and print how long its steps took inside the server")
    ap.add_argument("--no-pyc-cache", action="store_true", help="leave PYTHONDONTWRITEBYTECODE as it is "
                    "(by default the server gets a private .pyc cache, as an installed package would have)")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the in-process breakdown")
    ap.add_argument("--json", type=Path, help="write JSON here (default: bench/results/bench-<time>.json)")
    ap.add_argument("--no-json", action="store_true", help="do not write JSON")
    args = ap.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
