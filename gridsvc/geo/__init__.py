"""Geometry helpers: Chinese coordinate systems, CRS parsing and input checks."""
