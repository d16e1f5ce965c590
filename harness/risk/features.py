"""The features the monitor scores: what each measures, its unit, and how to say it in words.

Every feature is an integer series in its own unit (`scale` units make one displayed unit) and
is oriented so that higher is riskier. `floor` and `relative_floor` bound the robust scale from
below (see `robust.robust_scale`): they say how large a move must be before it counts at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from harness.risk.robust import decimal_text

PPM = 1_000_000


@dataclass(frozen=True)
class Feature:
    name: str
    what: str
    """What the value is, completing "<what> was <value> against a usual <baseline>"."""
    unit: str
    scale: int
    floor: int
    relative_floor: Fraction = Fraction(0)
    advice: str = ""
    """What a risk engineer should look at when this feature leads an alert."""
    places: int = 2
    """Decimals shown (0 for counts)."""

    def show(self, value: int | Fraction) -> str:
        number = value if isinstance(value, Fraction) else Fraction(value)
        text = decimal_text(number.numerator, number.denominator * self.scale, self.places)
        return f"{text}{self.unit}"


CANCEL_RATE = Feature(
    "cancel_rate",
    "cancels in the window",
    "",
    1,
    floor=5,
    relative_floor=Fraction(1, 4),
    advice="check for quote stuffing or a runaway cancel loop",
    places=0,
)
CANCEL_FILL_RATIO = Feature(
    "cancel_fill_ratio",
    "cancels / (fills + 1) in the window",
    "",
    PPM,
    floor=5 * PPM,
    relative_floor=Fraction(1, 4),
    advice="orders are pulled before they trade: spoofing or a fleeing liquidity provider",
)
REJECT_RATE = Feature(
    "reject_rate",
    "rejected or throttled requests in the window",
    "",
    1,
    floor=3,
    relative_floor=Fraction(1, 4),
    advice="the account is hitting margin or rate limits; its client may be retrying blindly",
    places=0,
)
ORDER_DEPTH_SHARE = Feature(
    "order_depth_share",
    "largest order as a share of the thinner side's depth near the touch",
    "x",
    PPM,
    floor=PPM,
    relative_floor=Fraction(1, 4),
    advice="large orders into a thin book can move the mark and trigger stops and liquidations",
)
MARGIN_RATIO = Feature(
    "margin_ratio",
    "margin ratio (maintenance / margin balance)",
    "",
    PPM,
    floor=PPM // 20,
    advice="the account is moving toward liquidation; check its position and the mark",
)
LEVERAGE = Feature(
    "leverage",
    "effective leverage (position notional / margin balance)",
    "x",
    PPM,
    floor=5 * PPM,
    relative_floor=Fraction(1, 4),
    advice="leverage jumped: a large new position or a margin balance eaten by losses",
)
REALIZED_VOL = Feature(
    "realized_vol",
    "mark path length in the window (sum of absolute mark moves)",
    " ticks",
    1,
    floor=20,
    relative_floor=Fraction(1, 2),
    advice="the mark is moving unusually fast; expect margin calls on leveraged accounts",
    places=0,
)
BOOK_THINNESS = Feature(
    "book_thinness",
    "thinness of the book near the touch (1,000,000 / lots within N ticks, both sides)",
    "",
    1,
    floor=1_000,
    relative_floor=Fraction(1, 2),
    advice="liquidity near the touch has drained; forced orders will slip far",
    places=0,
)
FUNDING_VOL_GAP = Feature(
    "funding_vol_gap",
    "funding per unit of realized volatility (|last funding rate, else premium index| in 1e-8 "
    "per tick of mark path in the window)",
    "",
    1,
    floor=100,
    relative_floor=Fraction(1, 2),
    advice="funding is far from what volatility justifies: crowded positioning on one side",
    places=0,
)
NEAR_MARGIN_SHARE = Feature(
    "near_margin_share",
    "share of accounts with positions whose margin ratio is above the near-margin level",
    "",
    PPM,
    floor=PPM // 20,
    advice="many accounts are close to liquidation at once: a cascade can start",
)
MARGIN_RISING_SHARE = Feature(
    "margin_rising_share",
    "share of accounts with positions whose margin ratio rose notably over the window",
    "",
    PPM,
    floor=PPM // 10,
    advice="margin ratios are rising together: one price move is hurting many accounts",
)

FEATURES = (
    CANCEL_RATE,
    CANCEL_FILL_RATIO,
    REJECT_RATE,
    ORDER_DEPTH_SHARE,
    MARGIN_RATIO,
    LEVERAGE,
    REALIZED_VOL,
    BOOK_THINNESS,
    FUNDING_VOL_GAP,
    NEAR_MARGIN_SHARE,
    MARGIN_RISING_SHARE,
)
BY_NAME = {feature.name: feature for feature in FEATURES}
