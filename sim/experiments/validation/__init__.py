"""Tests of the model against the empirical record, and deliberately wrong variants."""
