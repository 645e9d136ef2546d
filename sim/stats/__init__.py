"""Statistics over run records: headline tables and intervals, posteriors, sensitivity analysis, survival,
decision criteria. Imports the layers below; never draws or writes.
"""
