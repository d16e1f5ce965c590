"""Orders of simulated agents, their state machine, reason codes, and the events the engine emits.

Prices are integer ticks and quantities integer lots of the instrument; times are int ns. Every
enum is a string enum so that journal records read the same in any run and any process.

An order moves NEW -> ACCEPTED -> PARTIALLY_FILLED -> FILLED | CANCELLED | EXPIRED, or NEW ->
REJECTED. A rejection never follows acceptance: a check that fails after the order was accepted
(a triggered stop that no longer passes the price band, say) expires it instead, so a client that
saw ACCEPTED knows the order was live.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import ClassVar, Final

# Counterparty of a fill against the recorded public book (no sim account has this name).
PUBLIC: Final = "<public>"


class Side(IntEnum):
    """BUY equals the book's BID side and SELL its ASK side, so a side is also a book side."""

    BUY = 1
    SELL = -1


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"  # post-only


class TriggerSource(StrEnum):
    MARK = "MARK"
    LAST = "LAST"


class StpMode(StrEnum):
    NONE = "NONE"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


class OrderStatus(StrEnum):
    NEW = "NEW"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class Request(StrEnum):
    """Which client request a rejection answers."""

    SUBMIT = "SUBMIT"
    CANCEL = "CANCEL"
    AMEND = "AMEND"


class Reason(StrEnum):
    INVALID_ORDER = "INVALID_ORDER"
    DUPLICATE_CLIENT_ID = "DUPLICATE_CLIENT_ID"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    NOT_AMENDABLE = "NOT_AMENDABLE"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    FOK_NOT_FILLABLE = "FOK_NOT_FILLABLE"
    IOC_REMAINDER = "IOC_REMAINDER"
    REDUCE_ONLY_WOULD_INCREASE = "REDUCE_ONLY_WOULD_INCREASE"
    REDUCE_ONLY_CUT = "REDUCE_ONLY_CUT"
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"  # decided by the caller's margin check
    MIN_NOTIONAL = "MIN_NOTIONAL"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"
    PRICE_BAND = "PRICE_BAND"
    MARKET_TAKE_BOUND = "MARKET_TAKE_BOUND"
    STOP_WOULD_TRIGGER = "STOP_WOULD_TRIGGER"
    STP_EXPIRED = "STP_EXPIRED"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    USER_CANCEL = "USER_CANCEL"
    CANCEL_ALL = "CANCEL_ALL"
    USER_AMEND = "USER_AMEND"
    AMEND_BELOW_FILLED = "AMEND_BELOW_FILLED"
    HALTED = "HALTED"  # guardrails, decided by the venue
    MAX_POSITION = "MAX_POSITION"
    REDUCE_ONLY_MODE = "REDUCE_ONLY_MODE"


TERMINAL: Final = (
    OrderStatus.FILLED,
    OrderStatus.CANCELLED,
    OrderStatus.EXPIRED,
    OrderStatus.REJECTED,
)

_NEXT: Final[dict[OrderStatus, tuple[OrderStatus, ...]]] = {
    OrderStatus.NEW: (OrderStatus.ACCEPTED, OrderStatus.REJECTED),
    OrderStatus.ACCEPTED: (
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
    ),
    OrderStatus.PARTIALLY_FILLED: (
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
    ),
}


class IllegalTransitionError(RuntimeError):
    """An engine bug: the order state machine was asked for a move it does not have."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """What a client sends. `trigger` and `stp` left as None take the engine's defaults."""

    account: str
    side: Side
    qty: int
    type: OrderType = OrderType.LIMIT
    price: int | None = None
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    stop_price: int | None = None
    trigger: TriggerSource | None = None
    stp: StpMode | None = None
    client_id: str | None = None


@dataclass(slots=True, eq=False, kw_only=True)
class Order:
    """The engine's live record of an order; clients only ever see events about it."""

    order_id: int
    client_id: str
    account: str
    side: Side
    type: OrderType
    qty: int
    price: int | None
    tif: TimeInForce
    reduce_only: bool
    stop_price: int | None
    trigger: TriggerSource
    stp: StpMode
    ts: int
    status: OrderStatus = OrderStatus.NEW
    filled: int = 0
    # Public lots ahead of this order at its price (see queue_position).
    queue_ahead: int = 0
    triggered: bool = False

    @property
    def leaves(self) -> int:
        return self.qty - self.filled

    @property
    def is_market(self) -> bool:
        return self.type is OrderType.MARKET or self.type is OrderType.STOP_MARKET

    @property
    def is_stop(self) -> bool:
        return self.type is OrderType.STOP_MARKET or self.type is OrderType.STOP_LIMIT

    @property
    def is_waiting_stop(self) -> bool:
        return self.is_stop and not self.triggered

    def move(self, status: OrderStatus) -> None:
        if status not in _NEXT.get(self.status, ()):
            raise IllegalTransitionError(f"order {self.order_id}: {self.status} -> {status}")
        self.status = status

    def add_fill(self, qty: int) -> None:
        if not 0 < qty <= self.leaves:
            raise IllegalTransitionError(f"order {self.order_id}: fill {qty} of {self.leaves} left")
        self.filled += qty
        self.move(OrderStatus.FILLED if self.filled == self.qty else OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class OrderEvent:
    kind: ClassVar[str] = "order"
    ts: int
    symbol: str
    order_id: int
    client_id: str
    account: str


@dataclass(frozen=True, slots=True)
class Accepted(OrderEvent):
    kind: ClassVar[str] = "accepted"
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int | None
    stop_price: int | None
    qty: int
    reduce_only: bool


@dataclass(frozen=True, slots=True)
class Rejected(OrderEvent):
    """Answers a request that changed nothing (an unknown order id gives empty id fields)."""

    kind: ClassVar[str] = "rejected"
    request: Request
    reason: Reason


@dataclass(frozen=True, slots=True)
class Fill(OrderEvent):
    """One side of one match; a sim-vs-sim match gives the taker's fill, then the maker's."""

    kind: ClassVar[str] = "fill"
    side: Side
    price: int
    qty: int
    liquidity: Liquidity
    counterparty: str
    counter_order_id: int  # 0 for the public book
    leaves: int
    match_id: int


@dataclass(frozen=True, slots=True)
class Cancelled(OrderEvent):
    kind: ClassVar[str] = "cancelled"
    reason: Reason
    leaves: int


@dataclass(frozen=True, slots=True)
class Expired(OrderEvent):
    kind: ClassVar[str] = "expired"
    reason: Reason
    leaves: int


@dataclass(frozen=True, slots=True)
class Triggered(OrderEvent):
    kind: ClassVar[str] = "triggered"
    source: TriggerSource
    trigger_price: int


@dataclass(frozen=True, slots=True)
class Amended(OrderEvent):
    kind: ClassVar[str] = "amended"
    qty: int
    price: int | None
    leaves: int
    kept_priority: bool
    reason: Reason


Event = Accepted | Rejected | Fill | Cancelled | Expired | Triggered | Amended
