"""What travels up an agent's order link to the venue: one message per client request."""

from __future__ import annotations

from dataclasses import dataclass

from harness.venue.exchange.orders import OrderRequest


@dataclass(frozen=True, slots=True)
class Submit:
    symbol: str
    request: OrderRequest


@dataclass(frozen=True, slots=True)
class Cancel:
    symbol: str
    account: str
    client_id: str


@dataclass(frozen=True, slots=True)
class CancelAll:
    symbol: str
    account: str


@dataclass(frozen=True, slots=True)
class Amend:
    symbol: str
    account: str
    client_id: str
    qty: int | None = None
    price: int | None = None


VenueRequest = Submit | Cancel | CancelAll | Amend
