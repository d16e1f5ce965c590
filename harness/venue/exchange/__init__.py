"""Orders and their matching against the recorded book and other agents."""
