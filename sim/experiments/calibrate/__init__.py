"""Calibration by ABC-SMC (pyabc): the fit and the packed batch sampler."""
