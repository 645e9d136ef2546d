"""The batch engine: the Mesa model and its agents, world parameters, random streams, compiled kernels, running
blocks and packed points, resource bounds, the Mesa adapter. Imports sim.core, sim.mechanisms, sim.spec.
"""
