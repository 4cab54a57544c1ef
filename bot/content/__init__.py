"""The content base: loading, checking and exporting every text people read."""
