"""The local stack: an OpenID provider and an API Gateway emulator that run template.yaml's handlers.

`python -m local dev` (what `make dev` runs) starts both; see docs/local-stack.md.
"""
