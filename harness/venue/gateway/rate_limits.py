"""The venue's request rate limits: weight per IP, order counts per account, 429 and 418 bans.

Three counters, as the venue reports them in its response headers (used weight 1m, order count
10s and 1m): request weight per minute per IP, and orders per 10 s and per minute per account (the
`key` a caller passes is the account its API key trades for). Each endpoint costs a weight and an
order count (placing costs 1 order and 0 weight, cancelling 1 weight, queries 1 to 10 weight).

Windows. By default the counters are the venue's fixed windows aligned to the epoch: the minute
window holding `now` is `[now // 60 s * 60 s, +60 s)` and the 10 s window `[now // 10 s * 10 s,
+10 s)`, so every counter drops to zero at the same instant for everyone, which is what lets a
burst right before a boundary and another right after it pass (up to twice the limit within a
few ms). `sliding=True` counts the last 60 s (10 s) instead, `(now - window, now]`, with
Retry-After the time until enough of the oldest use has left the window.

Decisions. A request that would take any counter past its limit is refused with 429, a Retry-After
until that window frees enough room, and the counters as used before the request; a refused
request does not count. An IP refused again with 429 while an earlier Retry-After is still
running collects a strike; at `strikes_before_ban` strikes the IP is banned (418) for
`ban_base_ns` doubled for every earlier ban, capped at `ban_cap_ns`. While banned, every request
from the IP gets 418 with the time left. Ban levels never decay within a run. A request that
passes only costs what its endpoint costs: a cancel during an order-count 429 passes and is no
strike, because it does not break the order counters.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

NS_PER_S: Final = 1_000_000_000
MINUTE_NS: Final = 60 * NS_PER_S
TEN_S_NS: Final = 10 * NS_PER_S

OK: Final = 200
TOO_MANY: Final = 429
BANNED: Final = 418


class Endpoint(StrEnum):
    PLACE = "place"
    CANCEL = "cancel"
    CANCEL_ALL = "cancel_all"
    AMEND = "amend"
    QUERY = "query"
    OPEN_ORDERS = "open_orders"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class Cost:
    weight: int
    orders: int


DEFAULT_COSTS: Final[dict[Endpoint, Cost]] = {
    Endpoint.PLACE: Cost(0, 1),
    Endpoint.CANCEL: Cost(1, 0),
    Endpoint.CANCEL_ALL: Cost(1, 0),
    Endpoint.AMEND: Cost(1, 1),
    Endpoint.QUERY: Cost(1, 0),
    Endpoint.OPEN_ORDERS: Cost(10, 0),
    Endpoint.WITHDRAW: Cost(1, 0),
}


class Limit(StrEnum):
    """Which counter a 429 broke (or the IP ban behind a 418)."""

    NONE = ""
    WEIGHT_1M = "WEIGHT_1M"
    ORDERS_10S = "ORDERS_10S"
    ORDERS_1M = "ORDERS_1M"
    IP_BANNED = "IP_BANNED"


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force; tightening schedules replace or scale them."""

    weight_1m: int = 2_400
    orders_10s: int = 300
    orders_1m: int = 1_200

    def __post_init__(self) -> None:
        if min(self.weight_1m, self.orders_10s, self.orders_1m) < 1:
            raise ValueError(f"limits must be >= 1, got {self}")


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    limits: Limits = Limits()
    costs: dict[Endpoint, Cost] = field(default_factory=lambda: dict(DEFAULT_COSTS))
    sliding: bool = False
    strikes_before_ban: int = 3
    """429s while told to wait before the IP is banned; in-flight requests make 1 too harsh."""
    strike_grace_ns: int = NS_PER_S
    ban_base_ns: int = 2 * MINUTE_NS
    ban_cap_ns: int = 3 * 24 * 3_600 * NS_PER_S

    def __post_init__(self) -> None:
        if self.strikes_before_ban < 1:
            raise ValueError("strikes_before_ban must be >= 1")
        if self.strike_grace_ns < 0:
            raise ValueError("strike_grace_ns must be >= 0")
        if not 0 < self.ban_base_ns <= self.ban_cap_ns:
            raise ValueError("bans need 0 < ban_base_ns <= ban_cap_ns")


@dataclass(frozen=True, slots=True)
class Decision:
    """What the limiter says about one request, with the counters as the response reports them
    (including the request when it passed, without it when refused)."""

    status: int
    retry_after_ns: int
    weight_1m: int
    orders_10s: int
    orders_1m: int
    limit: Limit = Limit.NONE
    ban_ns: int = 0
    """Length of a ban this request started (0 unless it caused one)."""

    @property
    def ok(self) -> bool:
        return self.status == OK


class _Counter:
    """Usage of one limit for one key: a fixed epoch-aligned window or a sliding one."""

    __slots__ = ("_events", "_start", "_used", "sliding", "window_ns")

    def __init__(self, window_ns: int, sliding: bool) -> None:
        self.window_ns = window_ns
        self.sliding = sliding
        self._start = 0
        self._used = 0
        self._events: deque[tuple[int, int]] = deque()

    def used(self, now: int) -> int:
        if self.sliding:
            events, horizon = self._events, now - self.window_ns
            while events and events[0][0] <= horizon:
                self._used -= events.popleft()[1]
        else:
            start = now - now % self.window_ns
            if start != self._start:
                self._start, self._used = start, 0
        return self._used

    def add(self, now: int, amount: int) -> None:
        """Count `amount` at `now`; `used(now)` must have been called at this `now` first."""
        if amount:
            self._used += amount
            if self.sliding:
                self._events.append((now, amount))

    def retry_after(self, now: int, amount: int, limit: int) -> int:
        """Time from `now` until `amount` more fits under `limit` (which it does not now)."""
        if not self.sliding:
            return self._start + self.window_ns - now
        excess = self._used + amount - limit
        for ts, used in self._events:
            excess -= used
            if excess <= 0:
                return ts + self.window_ns - now
        # `amount` alone is above the limit: it never fits, so wait a whole window.
        return self.window_ns


@dataclass(slots=True)
class _IpState:
    wait_until: int = 0
    waiting_since: int = 0
    strikes: int = 0
    bans: int = 0
    banned_until: int = 0


class RateLimiter:
    """Counters per IP and per account; pure apart from its own counts (see module docstring)."""

    def __init__(self, settings: RateLimitSettings | None = None) -> None:
        self.settings = settings or RateLimitSettings()
        self._weight: dict[str, _Counter] = {}
        self._orders_10s: dict[str, _Counter] = {}
        self._orders_1m: dict[str, _Counter] = {}
        self._ips: dict[str, _IpState] = {}

    def _counter(self, table: dict[str, _Counter], key: str, window_ns: int) -> _Counter:
        counter = table.get(key)
        if counter is None:
            counter = table[key] = _Counter(window_ns, self.settings.sliding)
        return counter

    def usage(self, key: str, ip: str, now: int) -> tuple[int, int, int]:
        """(weight 1m of the IP, orders 10s and orders 1m of the account) at `now`."""
        weight = self._counter(self._weight, ip, MINUTE_NS)
        o10 = self._counter(self._orders_10s, key, TEN_S_NS)
        o60 = self._counter(self._orders_1m, key, MINUTE_NS)
        return weight.used(now), o10.used(now), o60.used(now)

    def check(
        self, key: str, ip: str, endpoint: Endpoint, now: int, limits: Limits | None = None
    ) -> Decision:
        """Decide one request at `now` and count it when it passes; `limits` overrides the
        settings' limits (a tightening schedule passes the ones in force)."""
        settings = self.settings
        limits = limits or settings.limits
        cost = settings.costs[endpoint]
        weight = self._counter(self._weight, ip, MINUTE_NS)
        o10 = self._counter(self._orders_10s, key, TEN_S_NS)
        o60 = self._counter(self._orders_1m, key, MINUTE_NS)
        used = (weight.used(now), o10.used(now), o60.used(now))
        state = self._ips.get(ip)
        if state is None:
            state = self._ips[ip] = _IpState()
        if now < state.banned_until:
            return Decision(BANNED, state.banned_until - now, *used, limit=Limit.IP_BANNED)
        retry, broken = 0, Limit.NONE
        for counter, limit, name, amount in (
            (weight, limits.weight_1m, Limit.WEIGHT_1M, cost.weight),
            (o10, limits.orders_10s, Limit.ORDERS_10S, cost.orders),
            (o60, limits.orders_1m, Limit.ORDERS_1M, cost.orders),
        ):
            if amount and counter.used(now) + amount > limit:
                wait = counter.retry_after(now, amount, limit)
                if wait > retry:
                    retry, broken = wait, name
        if broken is Limit.NONE:
            weight.add(now, cost.weight)
            o10.add(now, cost.orders)
            o60.add(now, cost.orders)
            return Decision(OK, 0, weight.used(now), o10.used(now), o60.used(now))
        if now < state.wait_until:
            if now >= state.waiting_since + settings.strike_grace_ns:
                state.strikes += 1
            if state.strikes >= settings.strikes_before_ban:
                ban = self._ban(state, now)
                return Decision(BANNED, ban, *used, limit=Limit.IP_BANNED, ban_ns=ban)
        else:
            state.strikes = 0
            state.waiting_since = now
        state.wait_until = max(state.wait_until, now + retry)
        return Decision(TOO_MANY, retry, *used, limit=broken)

    def ban(self, ip: str, now: int) -> int:
        """Ban the IP now, for another cause (its websocket connections closed repeatedly), on
        the same ladder as the 418s here; returns the ban's length."""
        state = self._ips.get(ip)
        if state is None:
            state = self._ips[ip] = _IpState()
        return self._ban(state, now)

    def _ban(self, state: _IpState, now: int) -> int:
        settings = self.settings
        ban = min(settings.ban_base_ns << min(state.bans, 62), settings.ban_cap_ns)
        state.bans += 1
        state.strikes = 0
        state.banned_until = max(state.banned_until, now + ban)
        return ban
