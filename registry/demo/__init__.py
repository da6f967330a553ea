"""The bulk synthetic catalog for load tests and benchmarks (`manage.py synth`). The
hand-written demo organisation is the top-level `demo` app: it calls approvals, which
registry must not import."""
