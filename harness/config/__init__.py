"""Scenario files read and validated at the edge; nothing in the venue imports this."""
