"""Generated gRPC code for the ``felund.v1`` API (do not edit: see scripts/gen_stubs.py)."""
