"""Routes of the reports domain (to be built)."""
blp = None
