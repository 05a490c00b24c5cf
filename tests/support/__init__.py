"""Test support: keys, tokens, a fake clock and a real JWKS server on 127.0.0.1."""
