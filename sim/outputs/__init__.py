"""Artefacts: CSV tables, manifests, figures and reports, written all or nothing."""
