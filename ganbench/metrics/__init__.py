"""Built-in metrics: one plugin module per metric; the math is in plain functions users can call."""
