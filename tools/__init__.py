"""Command-line tools for operators of the authorizer. They import its package and run its own code, but
are never part of a function's artifact (no function's build copies this folder)."""
