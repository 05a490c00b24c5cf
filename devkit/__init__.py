"""What the tests and the benchmarks share: signing keys and the tokens they sign, a JWKS server on
127.0.0.1, a clock moved by hand. Never part of a function's artifact."""
