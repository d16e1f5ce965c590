"""Named guardrails and the gate where the venue applies them."""
