"""Reading and writing the user's files safely: text only, and writes that are atomic, keep permissions,
and refuse when the file changed under us."""

from __future__ import annotations

import os
import tempfile

BINARY_SNIFF = 8192


class FileProblem(Exception):
    """A file cannot be used; the message says why in plain words."""


def read_nix_file(path: str) -> bytes:
    """The bytes of a Nix file, or `FileProblem` when it is unreadable, binary or not UTF-8."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise FileProblem(f"cannot read the file: {error.strerror or error}") from error
    if b"\0" in data[:BINARY_SNIFF]:
        raise FileProblem("not a Nix file: it contains binary data")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileProblem(f"not a Nix file: it is not UTF-8 text (bad byte at offset {error.start})") from error
    return data


def write_atomically(path: str, data: bytes, expected: bytes) -> None:
    """Replace the file at `path` (following a symlink to the real file) with `data`, only if it still holds
    `expected`. The new content goes to a temporary file beside it, with the same permissions, then is
    renamed over it, so a reader never sees half a file."""
    target = os.path.realpath(path)
    try:
        with open(target, "rb") as handle:
            current = handle.read()
    except OSError as error:
        raise FileProblem(f"cannot read the file again before writing: {error.strerror or error}") from error
    if current != expected:
        raise FileProblem("the file changed since it was read; nothing was written, run the request again")
    mode = os.stat(target).st_mode & 0o7777
    directory = os.path.dirname(target) or "."
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".nix-humanity-", dir=directory)
    except OSError as error:
        raise FileProblem(f"cannot write next to the file: {error.strerror or error}") from error
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise FileProblem(f"could not write the file: {error.strerror or error}") from error
