"""The language server with timers around its main steps: `python -m bench.timed_server [server args]`.

Used by `python -m bench.bench_server --timed`. Unlike cProfile, which inflates per-call costs (pygls's
per-line loop in TextDocument._apply_incremental_change looks 3x slower under it), this wraps a dozen
functions with `time.perf_counter` and nothing else. At exit the samples (seconds) are written as JSON to
the file named by $NHLS_TIMINGS, or summarised on stderr when it is unset.

The names wrapped are pygls 2.1 and nix-humanity-ls internals; a name that no longer exists is skipped
with a note on stderr, so the wrapper degrades rather than breaks when either side changes.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

SAMPLES: dict[str, list[float]] = defaultdict(list)

# (module, attribute path, label); the label may contain {method} for per-LSP-method timing
TARGETS = [
    ("pygls.protocol.json_rpc", "JsonRPCProtocol.handle_message", "pygls handle_message {method} (whole handler)"),
    ("pygls.protocol.json_rpc", "JsonRPCProtocol._send_data", "pygls _send_data (json.dumps + write)"),
    ("pygls.io_", "StdoutWriter.write", "pygls stdout write + flush"),
    ("pygls.workspace.text_document", "TextDocument.apply_change", "pygls TextDocument.apply_change"),
    ("nix_humanity_ls.syntax.document", "Document.__init__", "Document(...) (open)"),
    ("nix_humanity_ls.syntax.document", "Document.apply", "Document.apply (change)"),
    ("nix_humanity_ls.syntax.document", "Document._replace", "Document._replace (bytes, points, line table)"),
    ("nix_humanity_ls.syntax.parser", "parse", "tree-sitter parse"),
    ("nix_humanity_ls.lsp.server", "NixHumanityServer.publish", "publish (problems + convert + send)"),
    ("nix_humanity_ls.workspace", "Workspace.problems", "Workspace.problems"),
    ("nix_humanity_ls.lsp.server", "document_symbols", "document_symbols (core)"),
    ("nix_humanity_ls.lsp.server", "folding_ranges", "folding_ranges (core)"),
    ("nix_humanity_ls.lsp.server", "selection_chain", "selection_chain (core)"),
]


def _wrap(fn: Any, label: str) -> Any:
    per_method = "{method}" in label

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            if per_method:
                method = getattr(args[1], "method", None) if len(args) > 1 else None
                SAMPLES[label.format(method=method or "(response)")].append(elapsed)
            else:
                SAMPLES[label].append(elapsed)

    return timed


def _read_timer() -> None:
    """Time pygls's `json.loads(body, object_hook=structure_message)`: JSON decoding plus cattrs structuring."""
    import pygls.io_

    real = pygls.io_.json

    class TimedJson:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        @staticmethod
        def loads(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return real.loads(*args, **kwargs)
            finally:
                SAMPLES["pygls json.loads + cattrs structure"].append(time.perf_counter() - start)

    pygls.io_.json = TimedJson()  # type: ignore[assignment]


def install() -> None:
    for module_name, path, label in TARGETS:
        try:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for part in parents:
                owner = getattr(owner, part)
            setattr(owner, name, _wrap(getattr(owner, name), label))
        except (ImportError, AttributeError) as error:
            print(f"timed_server: not timing {module_name}.{path}: {error}", file=sys.stderr)
    try:
        _read_timer()
    except (ImportError, AttributeError) as error:
        print(f"timed_server: not timing json.loads: {error}", file=sys.stderr)


def _dump() -> None:
    data = dict(SAMPLES)
    path = os.environ.get("NHLS_TIMINGS")
    if path:
        with open(path, "w") as out:
            json.dump(data, out)
        return
    for label, samples in sorted(data.items()):
        print(f"{label}: n={len(samples)} median={statistics.median(samples) * 1000:.3f} ms", file=sys.stderr)


def main() -> int:
    install()  # before the server module registers its handlers, so that the wrapped names are the ones used
    atexit.register(_dump)
    from nix_humanity_ls.lsp.main import main as server_main

    # experiments, not defaults: NHLS_GC=freeze moves everything imported so far out of the collector's
    # reach (gc.freeze()); NHLS_GC=off disables the cyclic collector altogether (an upper bound on GC cost)
    mode = os.environ.get("NHLS_GC", "")
    if mode == "freeze":
        import gc

        gc.freeze()
    elif mode == "off":
        import gc

        gc.disable()

    return server_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
