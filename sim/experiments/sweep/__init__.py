"""Sweeps: what varies and how points are drawn (design), where points run (execute)."""
