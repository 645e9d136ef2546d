"""Figures drawn from tables only, one module per experiment."""
