"""Benchmarks of the authorizer against the signature-check floor and a naive baseline (`make bench`)."""
