"""Strategies, the order client they act through, and the runtime that wires them to the venue."""
