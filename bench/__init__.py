"""Benchmarks of the language server and a generator of realistic NixOS configurations (see README.md)."""
