"""The phones bench: `python bench/phones --help` (see __main__.py)."""
