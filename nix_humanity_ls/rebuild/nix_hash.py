"""Hashes as Nix writes them, so a hash mismatch can be fixed in the user's own spelling.

Nix prints `specified:` and `got:` in one encoding (`sha256-…=` SRI, or `sha256:` followed by Nix's base32)
while the file may hold another (`lib.fakeSha256`'s 52 zeros, a hex digest, an SRI string). Both sides are
decoded to bytes to find the literal, and the new hash is written the way the old one was.
"""

from __future__ import annotations

import base64
import binascii
import re

import attrs

NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"  # Nix's base32 alphabet (no e, o, u, t)
SIZES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}


@attrs.frozen
class NixHash:
    """A digest and how it was written: `sri` (sha256-…=), `prefixed` (sha256:…) or `bare`, in `nix32`,
    `base16` or `base64`."""

    algo: str
    digest: bytes
    form: str
    encoding: str


def nix32_encode(digest: bytes) -> str:
    length = (len(digest) * 8 - 1) // 5 + 1
    chars = []
    for n in range(length - 1, -1, -1):
        bit = n * 5
        index, shift = bit // 8, bit % 8
        value = digest[index] >> shift
        if index + 1 < len(digest):
            value |= digest[index + 1] << (8 - shift)
        chars.append(NIX32[value & 0x1F])
    return "".join(chars)


def nix32_decode(text: str, size: int) -> bytes | None:
    if len(text) != (size * 8 - 1) // 5 + 1 or any(c not in NIX32 for c in text):
        return None
    out = bytearray(size)
    for n, char in enumerate(reversed(text)):
        value = NIX32.index(char)
        bit = n * 5
        index, shift = bit // 8, bit % 8
        out[index] |= (value << shift) & 0xFF
        if index + 1 < size:
            out[index + 1] |= value >> (8 - shift)
        elif value >> (8 - shift):
            return None  # bits beyond the digest: not a valid encoding
    return bytes(out)


def parse(text: str, default_algo: str = "sha256") -> NixHash | None:
    """Read a hash in any spelling Nix accepts; None when `text` is not one."""
    text = text.strip()
    sri = re.fullmatch(r"(md5|sha1|sha256|sha512)-([A-Za-z0-9+/]+=*)", text)
    if sri:
        digest = _b64(sri.group(2), SIZES[sri.group(1)])
        return NixHash(sri.group(1), digest, "sri", "base64") if digest is not None else None
    prefixed = re.fullmatch(r"(md5|sha1|sha256|sha512):(\S+)", text)
    algo, body, form = (prefixed.group(1), prefixed.group(2), "prefixed") if prefixed else (default_algo, text, "bare")
    size = SIZES.get(algo)
    if size is None:
        return None
    if len(body) == size * 2 and re.fullmatch(r"[0-9a-fA-F]+", body):
        return NixHash(algo, bytes.fromhex(body), form, "base16")
    decoded = nix32_decode(body, size)
    if decoded is not None:
        return NixHash(algo, decoded, form, "nix32")
    digest = _b64(body, size)
    return NixHash(algo, digest, form, "base64") if digest is not None else None


def render(digest: bytes, like: NixHash) -> str:
    """`digest` written the way `like` is."""
    if like.encoding == "base16":
        body = digest.hex()
    elif like.encoding == "nix32":
        body = nix32_encode(digest)
    else:
        body = base64.b64encode(digest).decode()
    if like.form == "sri":
        return f"{like.algo}-{body}"
    return f"{like.algo}:{body}" if like.form == "prefixed" else body


def _b64(text: str, size: int) -> bytes | None:
    try:
        digest = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == size else None
