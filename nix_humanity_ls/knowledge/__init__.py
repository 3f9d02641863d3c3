"""Bundled and user knowledge: packages, options and the words people use for them."""
