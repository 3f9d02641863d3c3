"""`nix-humanity-ls`: start the language server on stdio (default) or TCP."""

from __future__ import annotations

import argparse
import gc
import logging
import sys

from .. import __version__


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT (e.g. 127.0.0.1:2087), got {value!r}")
    return host or "127.0.0.1", int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nix-humanity-ls",
        description="Language server for NixOS configurations. Speaks LSP on stdio unless --tcp is given.",
    )
    parser.add_argument("--version", action="version", version=f"nix-humanity-ls {__version__}")
    parser.add_argument("--tcp", metavar="HOST:PORT", type=_host_port, help="listen on TCP instead of stdio")
    parser.add_argument("--log-file", metavar="PATH", help="write the server log here (default: stderr)")
    parser.add_argument(
        "--log-level", choices=["error", "warning", "info", "debug"], default="info", help="default: %(default)s"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: logging.Handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("nix_humanity_ls").setLevel(args.log_level.upper())

    # Importing pygls builds ~600 lsprotocol classes; collecting garbage in the middle of that only costs
    # start-up time, and the objects it creates live as long as the server, so keep them out of later
    # collections too.
    gc.disable()
    from .server import server  # imported late so that --help and --version stay fast

    gc.freeze()
    gc.enable()

    log = logging.getLogger("nix_humanity_ls")
    if args.tcp:
        log.info("nix-humanity-ls %s listening on %s:%d", __version__, *args.tcp)
        server.start_tcp(*args.tcp)
    else:
        log.info("nix-humanity-ls %s on stdio", __version__)
        server.start_io()
    return 0
