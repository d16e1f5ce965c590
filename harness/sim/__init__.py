"""The simulation core: integer-nanosecond SimPy clock, named random streams, latency links and
scenario files."""
