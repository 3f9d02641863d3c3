"""Syntax layer: Nix text as bytes + a tree-sitter tree, positions, and queries shared by every feature."""
