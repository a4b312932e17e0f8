"""The package version, as a literal: a vendored copy has no dist-info to read it from."""

__all__ = ["__version__"]

__version__ = "0.1.0"
