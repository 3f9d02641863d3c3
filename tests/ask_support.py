"""Shared helpers for the `ask` tests (test_ask_meaning.py, test_ask_golden.py): the knowledge they ask with,
the package names they use, and one way to run a request against a text."""

from __future__ import annotations

import functools

from nix_humanity_ls.ide.ask import AskResult, ask
from nix_humanity_ls.language.resolve import Knowledge, bundled_knowledge
from nix_humanity_ls.syntax.document import Document

# Every package attribute a test file or request names. The Nix stub `pkgs` has exactly these, so a name the
# edit invents (or misspells) is an evaluation error, not a silent pass.
PACKAGES = (
    "android-tools bat btop chromium curl direnv discord emacs eza fastfetch fd firefox fish fzf gcc gimp git "
    "gnumake google-chrome htop jq keepassxc libreoffice linuxPackages linuxPackages_latest mariadb neovim nodejs "
    "obsidian python3 python312 ripgrep slack spotify steam steam-unwrapped thunderbird tmux tree unzip vim vlc "
    "vscode wget zip zoxide zsh"
).split()
# Unfree in nixpkgs (and so in the bundled package list): installing them needs allowUnfree or a predicate.
UNFREE = ("discord", "google-chrome", "obsidian", "slack", "spotify", "steam", "steam-unwrapped", "vscode")


@functools.cache
def ask_knowledge() -> Knowledge:
    """The knowledge that ships with nix-humanity-ls, without user aliases or remembered picks."""
    return bundled_knowledge()


def run_ask(source: bytes, request: str, knowledge: Knowledge | None = None, pick: int | None = None) -> AskResult:
    return ask(Document("file:///etc/nixos/configuration.nix", source), request, knowledge or ask_knowledge(), pick)
