"""The liquidation path: trigger index, queue, liquidator, insurance fund, ADL."""
