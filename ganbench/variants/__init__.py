"""Built-in variants: one plugin module per family of training recipes."""
