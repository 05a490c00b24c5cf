"""Code shared by the sample API functions. Import the submodule you need: this package imports nothing."""
