"""How well and how fast plain-words requests are understood.

    python -m bench.bench_requests [--runs 30] [--cli-runs 15] [--only accuracy|lsp|cli ...] [--show-ok]

Three parts, printed as Markdown (progress goes to stderr); targets are marked, never asserted:

- accuracy: every row of bench/requests_labeled.tsv (written for this benchmark, kept apart from tests/) is
  asked with `ask()` against examples/configuration.nix. A row is right when the status matches and, for
  `proposed`, the edited file *evaluates* to the labeled meaning (the real `nix-instantiate --eval --strict
  --json` with stub `pkgs`/`lib`, all files in one batch; the driver is the one tests/test_ask_meaning.py uses).
  For `ambiguous` rows with a labeled first candidate, `ask(..., pick=1)` must evaluate to it too. Every
  miss is listed with what was expected and what came back, grouped by kind.
- lsp: `textDocument/codeAction` over stdio (the LSP client of bench_server.py) on a 2,000-line generated
  configuration (bench/generate.py) with a `# add firefox` comment inserted: at that line, at a line with no
  request comment, and over a 60-line screen around it; with Nix's parser check on (the default) and off.
- cli: `nix-humanity ask "add firefox and enable ssh" --file examples/configuration.nix` as a process,
  with and without `--no-nix`.

See bench/README.md ("bench_requests.py") for the label format and what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bench_server import (
    INIT_PARAMS, TIMEOUT, LspClient, LspError, cell, environment, open_document, server_env, summary, warm_up,
)
from .generate import check, generate

ROOT = Path(__file__).resolve().parent.parent
LABELS = Path(__file__).resolve().parent / "requests_labeled.tsv"
EXAMPLE = ROOT / "examples" / "configuration.nix"
STATUSES = ("proposed", "noop", "ambiguous", "not_understood", "error")
TARGETS = {"code_action": 20.0, "cli": 300.0}  # medians, ms
CLI_REQUEST = "add firefox and enable ssh"
MISSING = object()

# -- the label format ----------------------------------------------------------------------------------


Path_ = tuple[str, ...]


@dataclass
class Meaning:
    """One alternative of a labeled meaning (see the header of requests_labeled.tsv)."""

    text: str
    ops: list[tuple[str, Path_, Any]] = field(default_factory=list)  # (set|add|del|off, path, value)
    may: list[tuple[Path_, Any]] = field(default_factory=list)  # value MISSING: anything goes
    unfree: list[str] = field(default_factory=list)

    def packages(self) -> set[str]:
        """Package names the stub `pkgs` must have for this meaning."""
        found = set(self.unfree)
        for _, _, value in self.ops:
            found |= _pkg_names(value)
        for _, value in self.may:
            found |= _pkg_names(value)
        return found


def _pkg_names(value: Any) -> set[str]:
    text = json.dumps(value) if value is not MISSING else ""
    return set(re.findall(r'"pkg:([^"]+)"', text))


@dataclass
class Row:
    line: int
    category: str
    request: str
    status: str
    meaning: list[Meaning]  # alternatives; empty for "-"
    first: list[Meaning]  # the first candidate's meaning (ambiguous rows), alternatives


def split_path(text: str) -> Path_:
    """`services.redis.servers."".enable` → ("services", "redis", "servers", "", "enable")."""
    parts = re.findall(r'"[^"]*"|[^."]+', text)
    if not parts or ".".join(parts) != text:
        raise ValueError(f"bad option path {text!r}")
    return tuple(p[1:-1] if p.startswith('"') else p for p in parts)


def parse_meaning(text: str) -> list[Meaning]:
    text = text.strip()
    if text in ("", "-"):
        return []
    alternatives = []
    for alternative in text.split(" | "):
        meaning = Meaning(alternative.strip())
        for op in filter(None, (o.strip() for o in alternative.split(";"))):
            if op.startswith(("pkg+", "pkg-")):
                kind = "add" if op[3] == "+" else "del"
                meaning.ops.append((kind, ("environment", "systemPackages"), f"pkg:{op[4:].strip()}"))
                continue
            word, _, rest = op.partition(" ")
            rest = rest.strip()
            if word == "unfree":
                meaning.unfree.append(rest)
                continue
            path_text, _, value_text = rest.partition(" ")
            path = split_path(path_text)
            value = json.loads(value_text) if value_text.strip() else MISSING
            if word in ("set", "add", "del"):
                if value is MISSING:
                    raise ValueError(f"`{op}` needs a JSON value")
                meaning.ops.append((word, path, value))
            elif word == "off":
                meaning.ops.append(("off", path, None))
            elif word == "may":
                meaning.may.append((path, value))
            else:
                raise ValueError(f"unknown operation `{op}`")
        alternatives.append(meaning)
    return alternatives


def load_labels(path: Path = LABELS) -> list[Row]:
    rows, category = [], "uncategorised"
    for number, raw in enumerate(path.read_text("utf-8").splitlines(), 1):
        if raw.startswith("## "):
            category = raw[3:].strip()
            continue
        if not raw.strip() or raw.startswith("#"):
            continue
        cols = raw.split("\t")
        if len(cols) < 3:
            raise ValueError(f"{path.name}:{number}: expected at least 3 tab-separated columns")
        request, status, meaning = cols[0], cols[1].strip(), cols[2]
        if status not in STATUSES:
            raise ValueError(f"{path.name}:{number}: unknown status {status!r}")
        try:
            row = Row(number, category, request, status, parse_meaning(meaning),
                      parse_meaning(cols[3]) if len(cols) > 3 else [])
        except (ValueError, json.JSONDecodeError) as error:
            raise ValueError(f"{path.name}:{number}: {error}") from error
        if status == "proposed" and not row.meaning:
            raise ValueError(f"{path.name}:{number}: a proposed row needs a meaning")
        rows.append(row)
    return rows


# -- evaluation ------------------------------------------------------------------------------------------


def _nix_list(items: Sequence[str]) -> str:
    return "[ " + " ".join(json.dumps(i) for i in items) + " ]"


def evaluate_files(files: Sequence[Path], packages: Sequence[str], unfree: Sequence[str], workdir: Path,
                   driver: str) -> list[dict[str, Any] | str]:
    """Each file's evaluated configuration and unfree verdicts (tests/test_ask_meaning.py's DRIVER), or Nix's
    error text. One nix-instantiate for all; one per file (4 at a time) only when the batch fails."""
    exe = shutil.which("nix-instantiate")
    assert exe is not None
    (workdir / "driver.nix").write_text(driver)
    (workdir / "packages.json").write_text(json.dumps({"packages": sorted(packages), "unfree": sorted(unfree)}))

    def run(batch: Sequence[Path]) -> subprocess.CompletedProcess[str]:
        expression = (
            "let names = builtins.fromJSON (builtins.readFile ./packages.json); in "
            f"import ./driver.nix {{ files = [ {' '.join(str(f) for f in batch)} ]; "
            "packages = names.packages; unfree = names.unfree; }"
        )
        return subprocess.run([exe, "--eval", "--strict", "--json", "-E", expression], cwd=workdir,
                              capture_output=True, text=True, timeout=300, check=False)

    if not files:
        return []
    done = run(files)
    if done.returncode == 0:
        return json.loads(done.stdout)

    def single(path: Path) -> dict[str, Any] | str:
        one = run([path])
        return json.loads(one.stdout)[0] if one.returncode == 0 else _nix_error(one.stderr)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(single, files))


def _nix_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors[-1] if errors else (lines[-1] if lines else "evaluation failed"))[:300]


def _get(tree: Any, path: Path_) -> Any:
    for name in path:
        if not isinstance(tree, dict) or name not in tree:
            return MISSING
        tree = tree[name]
    return tree


def _parent(tree: dict[str, Any], path: Path_, create: bool) -> dict[str, Any] | None:
    for name in path[:-1]:
        if name not in tree:
            if not create:
                return None
            tree[name] = {}
        tree = tree[name]
        if not isinstance(tree, dict):
            return None
    return tree


def expected_config(before: dict[str, Any], after: dict[str, Any], meaning: Meaning,
                    normalise: Any) -> dict[str, Any]:
    """The starting configuration with the meaning applied. `may` paths take the evaluated value when it is
    allowed (first, so that a required operation below them still has to hold)."""
    expected = copy.deepcopy(before)
    mays = list(meaning.may)
    if meaning.unfree:
        mays.append((("nixpkgs", "config"), MISSING))
    for path, value in mays:
        got, old = _get(after, path), _get(before, path)
        parent = _parent(expected, path, create=got is not MISSING)
        if got is MISSING:
            if parent is not None:
                parent.pop(path[-1], None)
        elif value is MISSING or normalise(got) in (normalise(value), normalise(old)):
            assert parent is not None
            parent[path[-1]] = copy.deepcopy(got)
    for kind, path, value in meaning.ops:
        parent = _parent(expected, path, create=kind != "off")
        if parent is None:
            continue
        last = path[-1]
        if kind == "set":
            parent[last] = value
        elif kind == "off":
            if last in parent:
                parent[last] = False
        elif kind == "add":
            current = list(parent.get(last, []))
            parent[last] = current + ([value] if value not in current else [])
        else:
            parent[last] = [item for item in parent.get(last, []) if item != value]
    return expected


def unfree_problems(after: dict[str, Any], meaning: Meaning | None, unfree_names: set[str]) -> list[str]:
    """Unfree packages the result installs (in any list, or steam through programs.steam) but does not allow,
    and the meaning's `unfree NAME` that are not allowed."""
    from tests.test_ask_meaning import installed_unfree  # the same reading the meaning tests use

    config, verdicts = after["config"], after["unfree"]
    found = installed_unfree(config, unfree_names)
    if meaning is not None:
        found |= set(meaning.unfree)
    return [f"unfree {name} is not allowed" for name in sorted(found) if not verdicts.get(name, False)]


# -- accuracy -------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    row: Row
    status: str = "crash"
    summary: str = ""
    diff: str = ""
    candidates: list[str] = field(default_factory=list)
    changed_bytes: bool = False
    seconds: float = 0.0
    path: Path | None = None  # the proposed file
    first_status: str | None = None
    first_summary: str = ""
    first_path: Path | None = None
    problems: list[str] = field(default_factory=list)  # why it is wrong, empty when right
    cause: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _best_match(before: dict[str, Any], after: dict[str, Any] | str, alternatives: list[Meaning],
                normalise: Any, differences: Any, unfree_names: set[str]) -> list[str]:
    """[] when `after` evaluates to one of the alternatives, else the problems of the closest one."""
    if isinstance(after, str):
        return [f"the edited file does not evaluate: {after}"]
    best: list[str] | None = None
    for meaning in alternatives:
        expected = expected_config(before["config"], after["config"], meaning, normalise)
        found = differences(normalise(expected), normalise(after["config"]))
        found += unfree_problems(after, meaning, unfree_names)
        if not found:
            return []
        if best is None or len(found) < len(best):
            best = [f"(closest: {meaning.text})"] + found if len(alternatives) > 1 else found
    return best or []


def run_accuracy(rows: list[Row], workdir: Path) -> tuple[list[Outcome], dict[str, Any]]:
    from nix_humanity_ls.ide.ask import ask
    from nix_humanity_ls.knowledge.packages import bundled_index
    from nix_humanity_ls.language.resolve import bundled_knowledge
    from nix_humanity_ls.syntax.document import Document

    try:
        from tests.test_ask_meaning import DRIVER, differences, normalise
    except ImportError as error:  # the evaluation helper lives with the meaning tests
        raise SystemExit(f"cannot import the evaluation helper from tests/test_ask_meaning.py: {error}") from error

    source = EXAMPLE.read_bytes()
    knowledge = bundled_knowledge()
    doc = Document("file:///etc/nixos/configuration.nix", source)
    ask(doc, "add firefox", knowledge)  # load the package index and vocabulary before timing

    outcomes: list[Outcome] = []
    files: list[Path] = []
    for index, row in enumerate(rows):
        out = Outcome(row)
        outcomes.append(out)
        try:
            start = time.perf_counter()
            result = ask(doc, row.request, knowledge)
            out.seconds = time.perf_counter() - start
        except Exception as error:  # noqa: BLE001 - a crash is a result too
            out.summary = f"{type(error).__name__}: {error}"
            continue
        out.status, out.summary = result.status, result.summary
        out.candidates = [c.title for c in result.candidates]
        out.changed_bytes = result.new is not None and result.new != source
        out.diff = result.diff("configuration.nix")
        if result.status == "proposed" and result.new is not None:
            out.path = workdir / f"row{index:03d}.nix"
            out.path.write_bytes(result.new)
            files.append(out.path)
        if result.status == "ambiguous" and row.first:
            try:
                picked = ask(doc, row.request, knowledge, pick=1)
            except Exception as error:  # noqa: BLE001
                out.first_status, out.first_summary = "crash", f"{type(error).__name__}: {error}"
                continue
            out.first_status, out.first_summary = picked.status, picked.summary
            if picked.status == "proposed" and picked.new is not None:
                out.first_path = workdir / f"row{index:03d}-pick1.nix"
                out.first_path.write_bytes(picked.new)
                files.append(out.first_path)

    index = bundled_index()
    packages = {p.attr for p in _all_packages(index)}
    unfree_names = {p.attr for p in _all_packages(index) if p.unfree}
    vocabulary_text = _vocabulary_text()
    packages |= set(re.findall(r"pkgs\.([A-Za-z_][\w-]*)", vocabulary_text))
    for row in rows:
        for meaning in row.meaning + row.first:
            packages |= meaning.packages()
            unfree_names |= set(meaning.unfree)
    start = time.perf_counter()
    evaluated = evaluate_files([EXAMPLE] + files, sorted(packages), sorted(unfree_names), workdir, DRIVER)
    eval_seconds = time.perf_counter() - start
    before, results = evaluated[0], dict(zip(files, evaluated[1:]))
    if isinstance(before, str):
        raise SystemExit(f"examples/configuration.nix does not evaluate with the stubs: {before}")

    for out in outcomes:
        judge(out, before, results, normalise, differences, unfree_names)
    info = {"evaluated_files": len(files) + 1, "eval_seconds": eval_seconds, "stub_packages": len(packages)}
    return outcomes, info


def _all_packages(index: Any) -> list[Any]:
    names = index.names()
    return [p for p in (index.get(n) for n in names) if p is not None]


def _vocabulary_text() -> str:
    from importlib import resources

    return (resources.files("nix_humanity_ls.knowledge") / "data" / "vocabulary.json").read_text("utf-8")


def judge(out: Outcome, before: dict[str, Any], results: dict[Path, Any], normalise: Any, differences: Any,
          unfree_names: set[str]) -> None:
    row = out.row
    if out.status == "crash":
        out.problems, out.cause = [f"ask() raised {out.summary}"], "crash"
        return
    if out.status != row.status:
        out.problems = [f"status {out.status}, expected {row.status}"]
        out.cause = _status_cause(row.status, out.status)
        return
    if row.status != "proposed":
        if out.changed_bytes:
            out.problems, out.cause = ["the text changed although the status says nothing should"], "changed text"
            return
        if row.status == "ambiguous" and row.first:
            if out.first_status != "proposed" or out.first_path is None:
                out.problems = [f"--pick 1 gave {out.first_status}: {out.first_summary}"]
            else:
                out.problems = _best_match(before, results[out.first_path], row.first, normalise, differences,
                                           unfree_names)
            if out.problems:
                out.cause = "wrong first candidate"
        return
    assert out.path is not None
    out.problems = _best_match(before, results[out.path], row.meaning, normalise, differences, unfree_names)
    if out.problems:
        text = " ".join(out.problems)
        out.cause = ("edit does not evaluate" if "does not evaluate" in text
                     else "unfree not allowed" if all("unfree" in p for p in out.problems if not p.startswith("(closest"))
                     else "wrong meaning")


def _status_cause(expected: str, got: str) -> str:
    if got == "not_understood":
        return f"not understood (expected {expected})"
    if expected == "not_understood":
        return f"{got} where a refusal was expected"
    if expected == "ambiguous":
        return f"{got} where candidates were expected"
    if got == "ambiguous":
        return f"candidates where {expected} was expected"
    return f"{got} where {expected} was expected"


def accuracy_markdown(outcomes: list[Outcome], info: dict[str, Any], show_ok: bool) -> str:
    total = len(outcomes)
    right = sum(o.ok for o in outcomes)
    status_right = sum(o.status == o.row.status for o in outcomes)
    lines = [f"## Accuracy on examples/configuration.nix ({total} labeled requests)\n",
             f"**{right}/{total} right ({100 * right / total:.1f} %)**; status right for {status_right}/{total} "
             f"({100 * status_right / total:.1f} %).\n",
             "| category | requests | right | rate | status right |", "|---|---:|---:|---:|---:|"]
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    for out in outcomes:
        by_category[out.row.category].append(out)
    for category, items in by_category.items():
        ok = sum(o.ok for o in items)
        st = sum(o.status == o.row.status for o in items)
        lines.append(f"| {category} | {len(items)} | {ok} | {100 * ok / len(items):.0f} % | {st} |")
    lines.append(f"| **all** | {total} | {right} | {100 * right / total:.1f} % | {status_right} |")

    lines += ["", "| by expected status | requests | right | rate |", "|---|---:|---:|---:|"]
    by_status: dict[str, list[Outcome]] = defaultdict(list)
    for out in outcomes:
        by_status[out.row.status].append(out)
    for status in STATUSES:
        items = by_status.get(status, [])
        if items:
            ok = sum(o.ok for o in items)
            lines.append(f"| {status} | {len(items)} | {ok} | {100 * ok / len(items):.0f} % |")

    confusion = Counter((o.row.status, o.status) for o in outcomes)
    got_statuses = [s for s in STATUSES + ("crash",) if any(g == s for _, g in confusion)]
    lines += ["", "Status confusion (rows: expected, columns: got):", "",
              "| expected \\ got | " + " | ".join(got_statuses) + " |", "|---|" + "---:|" * len(got_statuses)]
    for status in STATUSES:
        if any(e == status for e, _ in confusion):
            lines.append(f"| {status} | " + " | ".join(str(confusion.get((status, g), 0) or "") for g in got_statuses) + " |")

    seconds = [o.seconds for o in outcomes if o.seconds]
    st = summary(seconds)
    lines += ["", f"`ask()` in process: median {st['median']:.2f} ms, p90 {st['p90']:.2f} ms, max "
              f"{max(seconds) * 1000:.1f} ms over {len(seconds)} requests; {info['evaluated_files']} files evaluated "
              f"by one `nix-instantiate --eval` in {info['eval_seconds']:.1f} s ({info['stub_packages']} stub packages)."]

    misses = [o for o in outcomes if not o.ok]
    lines += ["", f"### Misses ({len(misses)}), grouped by kind", ""]
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for out in misses:
        groups[out.cause].append(out)
    for cause, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"#### {cause} ({len(items)})\n")
        for out in items:
            lines.append(_miss_text(out))
        lines.append("")
    if show_ok:
        lines += ["### Right", ""] + [f"- `{o.row.request}` → {o.status}: {o.summary}" for o in outcomes if o.ok]
    return "\n".join(lines)


def _miss_text(out: Outcome) -> str:
    row = out.row
    expected = row.status + (f": `{' | '.join(m.text for m in row.meaning)}`" if row.meaning else "")
    if row.first:
        expected += f"; first candidate `{' | '.join(m.text for m in row.first)}`"
    got = f"{out.status}: {out.summary}"
    if out.candidates:
        got += " — candidates: " + "; ".join(out.candidates[:5]) + (" …" if len(out.candidates) > 5 else "")
    text = [f"- `{row.request}` (line {row.line}, {row.category})", f"  - expected {expected}", f"  - got {got}"]
    for problem in out.problems:
        if not problem.startswith("status "):
            text.append(f"  - {problem}")
    if out.status == "proposed" and out.diff and out.cause != "crash":
        changed = [line for line in out.diff.splitlines()[2:] if line[:1] in "+-"]
        if changed:
            text.append("  - diff: " + " ⏎ ".join(f"`{line.strip()}`" for line in changed[:8]))
    return "\n".join(text)


# -- LSP codeAction latency ----------------------------------------------------------------------------


REQUEST_COMMENT = "# add firefox"


def config_with_request(lines: int = 2000) -> tuple[str, int, int]:
    """The generated configuration with a request comment line inserted before the tenant block nearest the
    middle (top level of the module, where a user would type it). Returns (text, request line, plain line)."""
    text = generate(lines)
    rows = text.splitlines()
    middle = len(rows) // 2
    heads = [n for n, row in enumerate(rows) if row.startswith("  # --- tenant ")]
    at = min(heads, key=lambda n: abs(n - middle))
    rows.insert(at, "  " + REQUEST_COMMENT)
    plain = next(n for n in range(at + 1, len(rows)) if rows[n].strip() == "isNormalUser = true;")
    return "\n".join(rows) + "\n", at, plain


def _client_init(nix: bool) -> dict[str, Any]:
    params = copy.deepcopy(INIT_PARAMS)
    params["capabilities"]["textDocument"]["codeAction"] = {
        "codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "refactor"]}},
        "isPreferredSupport": True,
    }
    if not nix:  # a program that is not there: nix_rejection gives up at once, as on a machine without Nix
        params["initializationOptions"] = {"nixInstantiate": "nix-instantiate-not-installed-for-bench"}
    return params


async def code_action_session(cmd: list[str], env: dict[str, str], text: str, request_line: int, plain_line: int,
                              runs: int, nix: bool, workdir: Path) -> dict[str, Any]:
    client = await LspClient.spawn(cmd, workdir / f"server-code-action-{'nix' if nix else 'nonix'}.stderr", env)
    result: dict[str, Any] = {}
    try:
        await client.request("initialize", _client_init(nix))
        await client.notify("initialized", {})
        uri = "file:///bench/requests/configuration.nix"
        _, msg = await open_document(client, uri, text)
        if msg["params"]["diagnostics"]:
            raise LspError(f"the generated file has diagnostics: {msg['params']['diagnostics'][:2]}")

        def params(first: int, last: int) -> dict[str, Any]:
            return {"textDocument": {"uri": uri},
                    "range": {"start": {"line": first, "character": 0}, "end": {"line": last, "character": 0}},
                    "context": {"diagnostics": [], "triggerKind": 2}}

        cases = {
            "request_line": params(request_line, request_line),
            "plain_line": params(plain_line, plain_line),
            "screen": params(max(request_line - 30, 0), request_line + 30),
        }
        # the first codeAction imports the request machinery and loads the knowledge: measured on its own
        elapsed, _, actions = await client.request("textDocument/codeAction", cases["request_line"])
        result["first_call"] = [elapsed]
        for key, case in cases.items():
            samples, count, titles = [], 0, []
            for k in range(runs + 1):
                elapsed, _, actions = await client.request("textDocument/codeAction", case)
                count = len(actions or [])
                titles = [a.get("title", "") for a in actions or []]
                if k:
                    samples.append(elapsed)
            result[key] = samples
            result[f"{key}_actions"] = count
            result[f"{key}_titles"] = titles
    finally:
        await client.close()
    return result


async def run_lsp(runs: int, workdir: Path, no_pyc_cache: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "nix_humanity_ls"]
    env = server_env(argparse.Namespace(no_pyc_cache=no_pyc_cache))
    text, request_line, plain_line = config_with_request()
    check(text)
    await warm_up(cmd, workdir, env)
    out: dict[str, Any] = {"lines": len(text.splitlines()), "bytes": len(text.encode()),
                           "request_line": request_line, "plain_line": plain_line}
    for nix in (True, False) if shutil.which("nix-instantiate") else (False,):
        print(f"  codeAction, Nix check {'on' if nix else 'off'}...", file=sys.stderr)
        out["nix" if nix else "no_nix"] = await asyncio.wait_for(
            code_action_session(cmd, env, text, request_line, plain_line, runs, nix, workdir), TIMEOUT * 4)
    return out


def lsp_markdown(res: dict[str, Any], runs: int) -> str:
    target = TARGETS["code_action"]
    lines = [f"## `textDocument/codeAction` over stdio (median / p90 ms, {runs} runs)\n",
             f"{res['lines']}-line generated configuration ({res['bytes'] / 1000:.0f} kB), `{REQUEST_COMMENT}` inserted "
             f"on line {res['request_line'] + 1}; the plain line is `isNormalUser = true;` on line {res['plain_line'] + 1}. "
             f"Target: median under {target:g} ms at the request line.\n",
             "| Nix parse check | at the request line | actions | at a plain line | 60-line range around it | actions | first call (loads the knowledge) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for key, label in (("nix", "on (default)"), ("no_nix", "off (`nixInstantiate` missing)")):
        if key not in res:
            continue
        r = res[key]
        lines.append(
            f"| {label} | {cell(summary(r['request_line']), target)} | {r['request_line_actions']} | "
            f"{cell(summary(r['plain_line']), target)} | {cell(summary(r['screen']))} | {r['screen_actions']} | "
            f"{cell(summary(r['first_call']))} |"
        )
    titles = next((res[k]["request_line_titles"] for k in ("nix", "no_nix") if k in res), [])
    if titles:
        lines.append("\nActions offered at the request line: " + "; ".join(f"“{t}”" for t in titles))
    return "\n".join(lines)


# -- CLI latency -----------------------------------------------------------------------------------------


def cli_command() -> list[str]:
    exe = Path(sys.executable).parent / "nix-humanity"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("nix-humanity")
    return [found] if found else [sys.executable, "-m", "nix_humanity_ls.cli"]


def run_cli(runs: int, no_pyc_cache: bool) -> dict[str, Any]:
    env = server_env(argparse.Namespace(no_pyc_cache=no_pyc_cache))
    env["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="nhls-bench-state-")  # no remembered picks
    base = cli_command() + ["ask", CLI_REQUEST, "--file", str(EXAMPLE)]
    out: dict[str, Any] = {"command": base}
    for key, extra in (("nix", []), ("no_nix", ["--no-nix"])):
        samples = []
        for k in range(runs + 1):
            start = time.perf_counter()
            done = subprocess.run(base + extra, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True,
                                  timeout=60, check=False)
            elapsed = time.perf_counter() - start
            if done.returncode != 0 or not done.stdout.startswith("proposed"):
                raise RuntimeError(f"the CLI failed ({done.returncode}): {done.stdout[:300]} {done.stderr[-500:]}")
            if k:
                samples.append(elapsed)
        out[key] = samples
    for key, code in (("python_startup", "pass"), ("import_cli", "import nix_humanity_ls.cli")):
        samples = []
        for _ in range(max(runs // 3, 3)):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, cwd=tempfile.gettempdir(), check=True)
            samples.append(time.perf_counter() - start)
        out[key] = samples
    return out


def cli_markdown(res: dict[str, Any], runs: int) -> str:
    target = TARGETS["cli"]
    lines = [f"## CLI end to end (median / p90 ms, {runs} runs, one process each)\n",
             f"`nix-humanity ask \"{CLI_REQUEST}\" --file examples/configuration.nix`; target: median under {target:g} ms.\n",
             "| variant | time |", "|---|---:|",
             f"| with Nix's parse check (default) | {cell(summary(res['nix']), target)} |",
             f"| `--no-nix` | {cell(summary(res['no_nix']), target)} |",
             f"| for reference: `python -c pass` | {cell(summary(res['python_startup']))} |",
             f"| for reference: `python -c 'import nix_humanity_ls.cli'` | {cell(summary(res['import_cli']))} |"]
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_requests", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", choices=("accuracy", "lsp", "cli"), default=["accuracy", "lsp", "cli"])
    ap.add_argument("--labels", type=Path, default=LABELS, help="the labeled requests (default: %(default)s)")
    ap.add_argument("--runs", type=int, default=30, help="codeAction requests per case (default: 30)")
    ap.add_argument("--cli-runs", type=int, default=15, help="CLI processes per variant (default: 15)")
    ap.add_argument("--show-ok", action="store_true", help="also list the requests that came out right")
    ap.add_argument("--no-pyc-cache", action="store_true", help="as in bench_server: keep PYTHONDONTWRITEBYTECODE")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    env = environment()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Commit {env['commit']}{' (package modified)' if env['package_dirty'] else ''}, Python {env['python']}, "
          f"{env['cpus']} CPUs, load average {load:.1f} at start (timings move with load).\n")
    raw: dict[str, Any] = {"environment": {**env, "load_average": load}}
    with tempfile.TemporaryDirectory(prefix="nhls-bench-requests-") as tmp:
        workdir = Path(tmp)
        if "accuracy" in args.only:
            if shutil.which("nix-instantiate") is None:
                print("accuracy skipped: nix-instantiate is not installed (apt-get install nix-bin)", file=sys.stderr)
            else:
                print("accuracy...", file=sys.stderr)
                rows = load_labels(args.labels)
                outcomes, info = run_accuracy(rows, workdir)
                print(accuracy_markdown(outcomes, info, args.show_ok))
                print()
                raw["accuracy"] = {
                    **info, "right": sum(o.ok for o in outcomes), "total": len(outcomes),
                    "misses": [{"request": o.row.request, "line": o.row.line, "category": o.row.category,
                                "expected": o.row.status, "got": o.status, "summary": o.summary, "cause": o.cause,
                                "problems": o.problems} for o in outcomes if not o.ok],
                }
        if "lsp" in args.only:
            print("codeAction latency...", file=sys.stderr)
            res = asyncio.run(run_lsp(args.runs, workdir, args.no_pyc_cache))
            print(lsp_markdown(res, args.runs))
            print()
            raw["lsp"] = res
        if "cli" in args.only:
            print("CLI latency...", file=sys.stderr)
            res = run_cli(args.cli_runs, args.no_pyc_cache)
            print(cli_markdown(res, args.cli_runs))
            print()
            raw["cli"] = res
    print(f"(total {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
