"""Built-in feature extractors: one plugin module each."""
