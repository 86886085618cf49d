"""Built-in network families: one plugin module each."""
