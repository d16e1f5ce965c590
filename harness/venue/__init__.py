"""The simulated venue: instruments, books, matching, accounts, margin and the liquidation path."""
