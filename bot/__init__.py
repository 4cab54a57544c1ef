"""Rahnuma's core: the conversation engine, content, NLU client and data. No HTTP here."""
