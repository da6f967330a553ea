"""Demo content: a realistic organisation built through the services (see build.py)."""
