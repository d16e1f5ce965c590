"""An alert: who, how strong, and the features behind it, in words a risk engineer can act on.

Journaled as one `risk_alert` record: `score` and each feature's `z_<n>` in hundredths, the
feature's `value_<n>` and baseline median `baseline_<n>` in its integer units, for an account's
latest values `quantile_pct_<n>` and `peers_<n>` (its quantile rank among the accounts sampled
with that feature at the same instant: is it alone, or is everyone moving?), and `reason`, the
sentence the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from harness.journal import Value
from harness.risk.robust import decimal_text, hundredths
from harness.risk.scorer import Contribution, Entity


def entity_words(entity: Entity) -> str:
    account, symbol = entity
    if account:
        return f"account {account}" + (f" on {symbol}" if symbol else "")
    return f"{symbol} market" if symbol else "venue-wide"


@dataclass(frozen=True)
class Peers:
    quantile: Fraction
    """Mid-rank quantile of the value among the accounts' values (`robust.quantile_rank`)."""
    population: int


@dataclass(frozen=True)
class Alert:
    ts: int
    entity: Entity
    score: Fraction
    rank: int
    """1 for the strongest alert of its sample."""
    contributions: tuple[Contribution, ...]
    peers: tuple[Peers | None, ...]
    """Per contribution: where the value ranks among the accounts (None: not an account's
    latest value, or no other account to compare with)."""

    def reason(self) -> str:
        parts = []
        for c, peers in zip(self.contributions, self.peers, strict=True):
            what = f"{c.feature.what} ({'smoothed' if c.drift else 'latest'})"
            among = ""
            if peers is not None:
                pct = peers.quantile * 100
                among = f"; percentile {decimal_text(pct.numerator, pct.denominator, 0)} of "
                among += f"{peers.population} accounts"
            parts.append(
                f"{what} {c.feature.show(c.value)} vs usual {c.feature.show(c.baseline)} "
                f"(robust z {decimal_text(c.z.numerator, c.z.denominator, 1)}{among}): "
                f"{c.feature.advice}"
            )
        return f"{entity_words(self.entity)}: " + "; ".join(parts)

    def fields(self) -> dict[str, Value]:
        out: dict[str, Value] = {
            "score": hundredths(self.score),
            "rank": self.rank,
            "reason": self.reason(),
        }
        for n, (c, peers) in enumerate(zip(self.contributions, self.peers, strict=True), start=1):
            out[f"feature_{n}"] = c.feature.name + (".trend" if c.drift else "")
            out[f"value_{n}"] = c.value
            out[f"baseline_{n}"] = int(c.baseline)
            out[f"z_{n}"] = hundredths(c.z)
            if peers is not None:
                out[f"quantile_pct_{n}"] = int(peers.quantile * 100)
                out[f"peers_{n}"] = peers.population
        return out
