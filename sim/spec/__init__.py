"""What a run is: the scenario schema and loading, the commitments and their priors, the calendar, the parameter
table and the empirical record. Imports only sim.core and sim.mechanisms.
"""
