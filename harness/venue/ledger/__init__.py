"""Money: accounts, margin, fees, funding, instruments and the mark price."""
