"""``python -m ganbench``: the command line."""

from ganbench.cli import main

if __name__ == "__main__":
    main()
