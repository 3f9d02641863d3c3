"""Reading tens of thousands of small files quickly.

Reading is what a cold build waits for: with an empty OS file cache, the 27,000 files of a full-size tree
took 5.7 s one after another and 2.0 s with 16 reads in flight (bench/README.md), because the disk serves
parallel requests and Python releases the GIL while it waits. So files are read by a few threads, in order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

IO_THREADS = 16

T = TypeVar("T")
R = TypeVar("R")


def read_bytes(path: str) -> bytes | OSError:
    """The file's bytes, or the error that stopped reading it (never raised: one bad file is a note)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        return error


def in_threads(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`[function(item) for item in items]`, run by `IO_THREADS` threads; results in the order of `items`."""
    items = list(items)
    if len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(IO_THREADS, len(items)), thread_name_prefix="nixpkgs-read") as pool:
        return list(pool.map(function, items))


def read_files(root: str, files: Iterable[str]) -> list[tuple[str, bytes | OSError]]:
    """(file, bytes or error) for each file (relative to `root`), read in parallel."""
    return in_threads(lambda file: (file, read_bytes(os.path.join(root, file))), files)
