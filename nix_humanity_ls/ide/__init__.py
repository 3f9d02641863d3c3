"""Editor features, one module each, free of LSP types: they take a `Document` and return plain data."""
