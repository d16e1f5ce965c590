"""Example strategies, each exercised by a test and usable from scenarios as `module:Class`."""
