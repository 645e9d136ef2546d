"""Experiments that compute: each returns tables, figure specifications and manifest fields; none writes files or
draws.
"""
