"""The explainable risk monitor and trader analytics (issue 7).

The monitor reads the journal while the run happens (`Journal.subscribe`) and samples a narrow,
read-only view of the market on a cadence; it extracts features per account, per symbol and
venue-wide, scores each against the entity's own rolling baseline with robust integer
statistics, and journals ranked `risk_alert` records that name their top features in words.
Everything is integer or Fraction math over journal order, so alerts are bit-reproducible.
"""
