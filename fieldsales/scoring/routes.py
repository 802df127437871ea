"""Routes of the scoring domain (to be built)."""
blp = None
