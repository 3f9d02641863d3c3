"""The documentSymbol outline of a configuration: arguments, `let` bindings, option paths as written, nested
sets as children, named entries (user accounts, virtual hosts) and value kinds."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import document_symbols, open_document, text_index

BASE = "file:///tmp/nix-humanity-symbols"

CONFIGURATION = """\
{ config, pkgs, lib, ... }:

let
  myName = "alice";
  extraPkgs = with pkgs; [ git vim ];
in
{
  imports = [ ./hardware-configuration.nix ];

  boot.loader.systemd-boot.enable = true;

  networking = {
    hostName = "nixos";
    networkmanager.enable = true;
    firewall.allowedTCPPorts = [ 22 80 ];
  };

  time.timeZone = "Europe/Berlin";

  users.users.alice = {
    isNormalUser = true;
    description = "Alice Ünal 😀";
    extraGroups = [ "wheel" "networkmanager" ];
    uid = 1000;
  };

  services.nginx.virtualHosts."example.org" = {
    root = /var/www;
  };

  programs.zsh.enable = lib.mkDefault false;
  services.xserver = lib.mkIf true { enable = true; };
  nixpkgs.config.allowUnfreePredicate = pkg: true;
  security.sudo.extraConfig = ''
    Defaults timestamp_timeout=30
  '';
  services.openssh.settings.PermitRootLogin = null;
  inherit (config) foo;
  system.stateVersion = "24.05";
}
"""

K = types.SymbolKind



def _text(text: str, range_: types.Range) -> str:
    return text[text_index(text, range_.start) : text_index(text, range_.end)]


def _contains(outer: types.Range, inner: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(outer.start) <= key(inner.start) and key(inner.end) <= key(outer.end)


def _check_ranges(text: str, symbols: list[types.DocumentSymbol], parent: types.Range | None = None) -> None:
    """LSP requires selectionRange inside range; children sit inside their parent; the selection is the name."""
    for symbol in symbols:
        assert _contains(symbol.range, symbol.selection_range), symbol.name
        if parent is not None:
            assert _contains(parent, symbol.range), symbol.name
        assert _text(text, symbol.selection_range) == symbol.name
        _check_ranges(text, list(symbol.children or []), symbol.range)


def _by_name(symbols) -> dict[str, types.DocumentSymbol]:
    return {s.name: s for s in symbols}


async def test_outline_of_a_configuration(client: LanguageClient):
    uri = f"{BASE}/configuration.nix"
    await open_document(client, uri, CONFIGURATION)
    symbols = await document_symbols(client, uri)
    assert [(s.name, s.kind, s.detail) for s in symbols] == [
        ("config", K.Variable, "argument"),
        ("pkgs", K.Variable, "argument"),
        ("lib", K.Variable, "argument"),
        ("myName", K.Variable, "let binding"),
        ("extraPkgs", K.Variable, "let binding"),
        ("imports", K.Array, None),
        ("boot.loader.systemd-boot.enable", K.Boolean, "boot.loader.systemd-boot.enable"),
        ("networking", K.Namespace, None),
        ("time.timeZone", K.String, "time.timeZone"),
        ("users.users.alice", K.Namespace, "user account"),
        ('services.nginx.virtualHosts."example.org"', K.Namespace, "virtual host"),
        ("programs.zsh.enable", K.Boolean, "programs.zsh.enable"),  # through lib.mkDefault
        ("services.xserver", K.Namespace, "services.xserver"),  # through lib.mkIf
        ("nixpkgs.config.allowUnfreePredicate", K.Function, "nixpkgs.config.allowUnfreePredicate"),
        ("security.sudo.extraConfig", K.String, "security.sudo.extraConfig"),
        ("services.openssh.settings.PermitRootLogin", K.Null, "services.openssh.settings.PermitRootLogin"),
        ("foo", K.Property, "inherited"),
        ("system.stateVersion", K.String, "system.stateVersion"),
    ]
    _check_ranges(CONFIGURATION, symbols)

    top = _by_name(symbols)
    networking = top["networking"].children or []
    assert [(s.name, s.kind, s.detail) for s in networking] == [
        ("hostName", K.String, "networking.hostName"),
        ("networkmanager.enable", K.Boolean, "networking.networkmanager.enable"),
        ("firewall.allowedTCPPorts", K.Array, "networking.firewall.allowedTCPPorts"),
    ]
    alice = top["users.users.alice"]
    assert [(s.name, s.kind) for s in alice.children or []] == [
        ("isNormalUser", K.Boolean),
        ("description", K.String),
        ("extraGroups", K.Array),
        ("uid", K.Number),
    ]
    assert _text(CONFIGURATION, alice.range).startswith("users.users.alice = {")
    assert _text(CONFIGURATION, alice.range).endswith("};")
    assert [s.name for s in top["services.xserver"].children or []] == ["enable"]
    assert top["imports"].children is None  # scalars have no children


async def test_argument_forms(client: LanguageClient):
    cases = {
        "{ pkgs, ... }@args: { a = 1; }": ["pkgs", "args", "a"],
        "args@{ pkgs, lib ? null, ... }: { }": ["args", "pkgs", "lib"],
        "pkgs: { a = 1; }": ["pkgs", "a"],
        "{ a = 1; }": ["a"],
        "rec { a = 1; b = a; }": ["a", "b"],
        "{ config, ... }: with config; assert true; ({ x.y = 1; })": ["config", "x.y"],
    }
    for i, (text, names) in enumerate(cases.items()):
        uri = f"{BASE}/arguments-{i}.nix"
        await open_document(client, uri, text)
        symbols = await document_symbols(client, uri)
        assert [s.name for s in symbols] == names, text
        _check_ranges(text, symbols)


async def test_ranges_count_utf16_after_non_ascii(client: LanguageClient):
    text = '{ a = "😀é"; b = 1; }\n'
    uri = f"{BASE}/utf16.nix"
    await open_document(client, uri, text)
    a, b = await document_symbols(client, uri)
    assert b.selection_range == types.Range(types.Position(0, 13), types.Position(0, 14))
    assert a.range == types.Range(types.Position(0, 2), types.Position(0, 12))
    _check_ranges(text, [a, b])


async def test_nested_sets_without_end_stay_bounded(client: LanguageClient):
    """A thousand nested sets give an outline, cut off at a depth no one reads (64 levels)."""
    text = "{ a = " * 1000 + "1" + "; }" * 1000
    uri = f"{BASE}/deep.nix"
    await open_document(client, uri, text)
    symbols = await document_symbols(client, uri)
    depth = 0
    while symbols:
        depth += 1
        assert [s.name for s in symbols] == ["a"]
        symbols = list(symbols[0].children or [])
    assert depth == 64


async def test_outline_of_a_broken_file(client: LanguageClient):
    """A missing `;` costs the binding it swallowed, not the ones after it."""
    text = "{\n  a = 1\n  b.c = true;\n  d = { e = \"x\"; };\n}\n"
    uri = f"{BASE}/broken.nix"
    await open_document(client, uri, text)
    assert len(client.diagnostics[uri]) >= 1
    symbols = await document_symbols(client, uri)
    assert [s.name for s in symbols] == ["a", "d"]
    assert [s.name for s in symbols[1].children or []] == ["e"]
