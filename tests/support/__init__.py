"""Code that tests and benchmarks share (never imported by the application)."""
