"""Sweeps: what varies and how points are drawn (design), one point's record and its checks (records), where
points run (execute), and the finished sweep's tables (result)."""
