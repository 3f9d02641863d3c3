"""The one edit engine: minimal, formatting-preserving changes to a NixOS module's syntax tree."""
