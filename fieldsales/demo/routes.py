"""Routes of the demo domain (to be built)."""
blp = None
