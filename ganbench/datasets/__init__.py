"""Built-in datasets: one plugin module per family."""
