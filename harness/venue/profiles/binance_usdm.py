"""Binance USD-M perpetuals: the venue the harness models first (MECHANICS.md throughout).

Everything Binance-specific lives here; the source of each value is noted beside it. Values marked
"a setting" are modelling choices of the right order, not published figures: override them in the
scenario where the exact figure matters.
"""

from __future__ import annotations

from fractions import Fraction

from harness.units import NS_PER_S
from harness.venue.ledger.fees import FeeSchedule, tier_from_percent
from harness.venue.ledger.funding import FundingParams
from harness.venue.ledger.instruments import BracketTable
from harness.venue.profiles import PROFILES, ContractSpec, RateLimitDefaults, VenueProfile

BRACKET_TABLES = {
    # MECHANICS 1: BTCUSDT's tiers as of 2024 (floors and caps in USDT).
    "binance-btcusdt-2024": BracketTable.from_bounds(
        "binance-btcusdt-2024",
        [
            0,
            300_000,
            800_000,
            3_000_000,
            12_000_000,
            70_000_000,
            100_000_000,
            230_000_000,
            480_000_000,
            600_000_000,
            800_000_000,
            1_200_000_000,
            1_800_000_000,
        ],
        [150, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1],
        [
            "0.40",
            "0.50",
            "0.65",
            "1.00",
            "2.00",
            "2.50",
            "5.00",
            "10.0",
            "12.5",
            "15.0",
            "25.0",
            "50.0",
        ],
    ),
    # MECHANICS 1: BTCUSDT's tiers of 2021 (the May 2021 cascade).
    "binance-btcusdt-2021": BracketTable.from_bounds(
        "binance-btcusdt-2021",
        [
            0,
            50_000,
            250_000,
            3_000_000,
            20_000_000,
            40_000_000,
            100_000_000,
            120_000_000,
            200_000_000,
            300_000_000,
            500_000_000,
        ],
        [125, 100, 50, 20, 10, 5, 4, 3, 2, 1],
        ["0.4", "0.5", "1", "2.5", "5", "10", "12.5", "15", "25", "50"],
    ),
    # A representative mid-cap altcoin table of the shape Binance publishes for USD-M alts (75x at
    # the first tier, 50% MMR at 1x); not copied from a venue page, so load the published one via
    # TOML where exact tiers matter.
    "binance-midcap-alt-2025": BracketTable.from_bounds(
        "binance-midcap-alt-2025",
        [
            0,
            5_000,
            25_000,
            100_000,
            250_000,
            1_000_000,
            2_500_000,
            5_000_000,
            12_500_000,
            25_000_000,
        ],
        [75, 50, 25, 20, 10, 5, 4, 2, 1],
        ["0.50", "1.00", "2.00", "2.50", "5.00", "10.0", "12.5", "25.0", "50.0"],
    ),
}

FEES = FeeSchedule(
    name="binance-usdm",
    tiers={
        # MECHANICS 8: regular 0.0200% / 0.0500%; the VIP rates of the USD-M schedule without the
        # BNB discount are a setting.
        "regular": tier_from_percent("0.0200", "0.0500"),
        "vip1": tier_from_percent("0.0160", "0.0400"),
        "vip2": tier_from_percent("0.0140", "0.0350"),
        "vip3": tier_from_percent("0.0120", "0.0320"),
        "vip4": tier_from_percent("0.0100", "0.0300"),
        "vip5": tier_from_percent("0.0080", "0.0270"),
        "vip6": tier_from_percent("0.0060", "0.0250"),
        "vip7": tier_from_percent("0.0040", "0.0220"),
        "vip8": tier_from_percent("0.0020", "0.0200"),
        "vip9": tier_from_percent("0.0000", "0.0170"),
        # MECHANICS 8: market-maker maker rebates of 0.001% to 0.005%; the taker side is
        # illustrative (the top VIP taker rate).
        "mm1": tier_from_percent("-0.0010", "0.0170"),
        "mm2": tier_from_percent("-0.0030", "0.0170"),
        "mm3": tier_from_percent("-0.0050", "0.0170"),
    },
)

FUNDING_CAP = Fraction(3, 1000)
"""+-0.3% per interval: a commonly quoted BTCUSDT cap and floor; a setting, not from MECHANICS."""

BINANCE_USDM = PROFILES.register("binance-usdm")(
    VenueProfile(
        name="binance-usdm",
        bracket_tables=BRACKET_TABLES,
        contracts=(
            ContractSpec("BTCUSDT", Fraction(1, 10), Fraction(1, 1000), "binance-btcusdt-2024"),
            # MECHANICS lists only BTCUSDT's tiers; load ETHUSDT's published table via TOML.
            ContractSpec("ETHUSDT", Fraction(1, 100), Fraction(1, 1000), "binance-btcusdt-2024"),
            # The alts of the synthetic 2025-10-10 crash (docs/synth.md) on their listed grids.
            ContractSpec(
                "SUIUSDT", Fraction(1, 10_000), Fraction(1, 10), "binance-midcap-alt-2025"
            ),
            ContractSpec(
                "ATOMUSDT", Fraction(1, 1000), Fraction(1, 100), "binance-midcap-alt-2025"
            ),
        ),
        default_brackets="binance-btcusdt-2024",
        fees=FEES,
        # MECHANICS 4: 8-hour interval, interest 0.01% per 8 h, clamp +-0.05%, impact notional
        # 200 USDT x the first tier's max leverage.
        funding=FundingParams(
            interval_hours=8,
            interest=Fraction(1, 10_000),
            clamp=Fraction(5, 10_000),
            impact_margin=Fraction(200),
            cap=FUNDING_CAP,
            floor=-FUNDING_CAP,
        ),
        min_notional=Fraction(5),  # USDT, the USD-M minimum order notional
        # MECHANICS 3: limit orders within 5% of mark, market orders fill within 5% of mark.
        price_band=Fraction(5, 100),
        market_take_bound=Fraction(5, 100),
        # MECHANICS 3: median(P1, P2, last), P2's basis averaged over 30 one-second samples.
        mark_method="binance",
        mark_interval_ns=NS_PER_S,
        mark_premium_samples=30,
        premium_index_every_ns=5 * NS_PER_S,  # MECHANICS 4: premium index sampled every 5 s
        adl_ranking="binance",  # MECHANICS 5.4: PnL% x margin ratio
        clearance_fee=Fraction(5, 1000),  # MECHANICS 5: 0.5% (a setting; BTCUSDT has used 1.25%)
        # MECHANICS 6: 2,400 weight per minute per IP; 300 orders per 10 s, 1,200 per minute.
        rate_limits=RateLimitDefaults(weight_1m=2_400, orders_10s=300, orders_1m=1_200),
    )
)

BTCUSDT = BINANCE_USDM.instrument("BTCUSDT")
ETHUSDT = BINANCE_USDM.instrument("ETHUSDT")
SUIUSDT = BINANCE_USDM.instrument("SUIUSDT")
ATOMUSDT = BINANCE_USDM.instrument("ATOMUSDT")
