"""The user's own nixpkgs, read without evaluating it: where it is (`locate`), what options and packages it
declares (`static_index`, from tree-sitter parses of its files), and an on-disk cache of that index (`cache`).

Nothing here knows about the language server protocol; hover, completion and diagnostics build on the records
in `records`.
"""
