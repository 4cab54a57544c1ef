"""The conversation: the engine, flows, language, channels and the NLU client."""
