"""Built-in run-event loggers: one plugin module each."""
