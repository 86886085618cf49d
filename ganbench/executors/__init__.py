"""Built-in executors: one plugin module each."""
