"""nix-humanity-ls: edit, explain and rebuild a NixOS configuration in plain words."""

__version__ = "0.1.0"
