"""Outgoing messages: the outbox and its worker."""
