"""Targets for the harness's self-tests: deliberately broken variants, correct ones, raw garbage servers."""
