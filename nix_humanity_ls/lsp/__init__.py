"""The LSP edge: pygls registrations and conversions between lsprotocol types and the core's plain data."""
