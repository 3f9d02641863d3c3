"""Rebuilding a NixOS system and explaining what Nix says when that fails."""
