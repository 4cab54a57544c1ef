"""The licence registry: lookup, name matching and the official list import."""
