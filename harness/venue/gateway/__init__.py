"""The venue's API edge: keys, rate limits, tightening, engine queues, websocket limit."""
