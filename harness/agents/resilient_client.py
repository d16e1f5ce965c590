"""An order client that survives a throttled gateway the way a careful production client does.

It sends `ApiRequest`s (key, IP, request id) and reads the gateway's answers and the venue's order
events from its response link. The careful mode (the default):

- honours Retry-After: after a 429 or 418 it sends nothing at all until the time it was told, so
  it collects no strikes beyond what was already in flight;
- retries overload (503 OVERLOADED) and rate-limit rejects with exponential backoff, `base_ns x
  2^attempt` capped at `cap_ns`, with "equal jitter" (half the delay fixed, half uniform, drawn
  from the numpy Generator it is given) so many clients do not retry in lockstep;
- spends a retry budget: at most `max_retries` per request, and one token per retry from a
  bucket of `budget` tokens refilled one per `budget_refill_ns`, so a storm of rejects cannot turn
  into a storm of retries; a request out of retries or tokens is given up and reported;
- keeps client order ids idempotent: a retried order carries the id of the first attempt;
- reconciles after 503 UNKNOWN_STATUS by querying the order's client id. The gateway answers a
  query after every earlier message of the symbol reached the engine, so "not found" is final and
  the order is resent with the same id; "found" means it reached the engine and its events come
  on their own. An order is never sent twice while its fate is open, so it is never doubled.

`naive=True` is the comparison: a fixed fast retry (`naive_retry_ns`) after any reject, Retry-After
ignored, no budget (only `naive_max_retries` per request), and a fresh client order id on every
resend, as a client that simply calls "place order" again does. Unknown statuses are treated as
failures and resent, which can double an order that did execute.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from harness.sim.clock import SimEnv
from harness.venue.gateway import (
    ApiRequest,
    Body,
    GatewayReject,
    Query,
    QueryResult,
    RejectReason,
    Response,
)
from harness.venue.orders import (
    Accepted,
    Event,
    OrderRequest,
    OrderType,
    Rejected,
    Side,
    TimeInForce,
)
from harness.venue.requests import Cancel, Submit

MS = 1_000_000

_RETRYABLE = (RejectReason.RATE_LIMIT, RejectReason.IP_BANNED, RejectReason.OVERLOADED)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_ns: int = 100 * MS
    cap_ns: int = 30_000 * MS
    max_retries: int = 8
    budget: int = 20
    budget_refill_ns: int = 1_000 * MS
    naive: bool = False
    naive_retry_ns: int = 50 * MS
    naive_max_retries: int = 40
    """A naive client keeps hammering for a while (2 s at the defaults) before it gives up."""

    def __post_init__(self) -> None:
        if not 0 < self.base_ns <= self.cap_ns:
            raise ValueError("backoff needs 0 < base_ns <= cap_ns")
        if min(self.max_retries, self.budget, self.naive_max_retries) < 0:
            raise ValueError("max_retries, naive_max_retries and budget must be >= 0")
        if self.budget_refill_ns < 1 or self.naive_retry_ns < 0:
            raise ValueError("budget_refill_ns must be >= 1 and naive_retry_ns >= 0")


@dataclass(slots=True)
class ClientStats:
    sent: int = 0
    retries: int = 0
    queries: int = 0
    given_up: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    """Gateway rejects by reason, and engine rejects as `engine:<reason>`."""
    accepted: Counter[str] = field(default_factory=Counter)
    """Engine acceptances by client order id: a value above 1 is a doubled order."""


@dataclass(slots=True)
class _Pending:
    body: Body
    retries: int
    original: Submit | None = None
    """For a reconciliation query: the order whose fate it asks about."""


class ResilientClient:
    """See the module docstring; `on_response` is the receiver of the agent's response link."""

    def __init__(
        self,
        env: SimEnv,
        account: str,
        key: str,
        ip: str,
        send: Callable[[ApiRequest], object],
        rng: np.random.Generator,
        policy: RetryPolicy | None = None,
        *,
        on_event: Callable[[Event], object] | None = None,
        on_give_up: Callable[[Body, GatewayReject], object] | None = None,
    ) -> None:
        self.env = env
        self.account = account
        self.key = key
        self.ip = ip
        self.policy = policy or RetryPolicy()
        self.stats = ClientStats()
        self._send = send
        self._rng = rng
        self._on_event = on_event
        self._on_give_up = on_give_up
        self._ids = itertools.count(1)
        self._request_ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._paused_until = env.now
        self._tokens = self.policy.budget
        self._refilled_at = env.now

    # --- orders ---------------------------------------------------------------------------------
    def _next_id(self) -> str:
        return f"{self.account}-{next(self._ids)}"

    def submit(self, symbol: str, request: OrderRequest) -> str:
        """Send an order, giving it a client order id unless it has one; returns the id."""
        if request.client_id is None:
            request = replace(request, client_id=self._next_id())
        assert request.client_id is not None
        self._dispatch(Submit(symbol, request), 0)
        return request.client_id

    def limit(
        self,
        symbol: str,
        side: Side,
        qty: int,
        price: int,
        *,
        post_only: bool = False,
        reduce_only: bool = False,
    ) -> str:
        request = OrderRequest(
            account=self.account,
            side=side,
            qty=qty,
            price=price,
            tif=TimeInForce.GTX if post_only else TimeInForce.GTC,
            reduce_only=reduce_only,
        )
        return self.submit(symbol, request)

    def market(self, symbol: str, side: Side, qty: int, *, reduce_only: bool = False) -> str:
        request = OrderRequest(
            account=self.account,
            side=side,
            qty=qty,
            type=OrderType.MARKET,
            tif=TimeInForce.IOC,
            reduce_only=reduce_only,
        )
        return self.submit(symbol, request)

    def cancel(self, symbol: str, client_id: str) -> None:
        self._dispatch(Cancel(symbol, self.account, client_id), 0)

    # --- sending --------------------------------------------------------------------------------
    def _dispatch(self, body: Body, retries: int, original: Submit | None = None) -> None:
        """Send now, or when the pause a 429/418 imposed is over (careful mode)."""
        now = self.env.now
        if now < self._paused_until:
            until = self._paused_until
            self.env.call_at(until, lambda: self._dispatch(body, retries, original))
            return
        request_id = next(self._request_ids)
        self._pending[request_id] = _Pending(body, retries, original)
        self.stats.sent += 1
        if isinstance(body, Query):
            self.stats.queries += 1
        self._send(ApiRequest(self.key, self.ip, request_id, body))

    def _retry_at(self, when: int, body: Body, retries: int, original: Submit | None) -> None:
        self.stats.retries += 1
        self.env.call_at(when, lambda: self._dispatch(body, retries, original))

    def _backoff(self, retries: int) -> int:
        policy = self.policy
        delay = min(policy.cap_ns, policy.base_ns << min(retries, 62))
        half = delay // 2
        return half + int(self._rng.integers(half + 1))

    def _take_token(self, now: int) -> bool:
        policy = self.policy
        refills = (now - self._refilled_at) // policy.budget_refill_ns
        if refills:
            self._tokens = min(policy.budget, self._tokens + refills)
            self._refilled_at += refills * policy.budget_refill_ns
        if self._tokens == 0:
            return False
        self._tokens -= 1
        return True

    # --- answers --------------------------------------------------------------------------------
    def on_response(self, message: Response | Event) -> None:
        if isinstance(message, GatewayReject):
            self._on_reject(message)
        elif isinstance(message, QueryResult):
            self._on_query(message)
        else:
            if isinstance(message, Accepted):
                self.stats.accepted[message.client_id] += 1
            elif isinstance(message, Rejected):
                self.stats.rejected[f"engine:{message.reason}"] += 1
            if self._on_event is not None:
                self._on_event(message)

    def _on_reject(self, reject: GatewayReject) -> None:
        self.stats.rejected[str(reject.reason)] += 1
        pending = self._pending.pop(reject.request_id)
        now = self.env.now
        body, retries = pending.body, pending.retries
        if self.policy.naive:
            self._naive_retry(reject, body, retries, now)
            return
        if reject.reason in (RejectReason.RATE_LIMIT, RejectReason.IP_BANNED):
            self._paused_until = max(self._paused_until, reject.ts + reject.retry_after_ns)
        if reject.reason not in (*_RETRYABLE, RejectReason.UNKNOWN_STATUS):
            self._give_up(body, reject)
            return
        if retries >= self.policy.max_retries or not self._take_token(now):
            self._give_up(body, reject)
            return
        when = max(now + self._backoff(retries), self._paused_until)
        if reject.reason is RejectReason.UNKNOWN_STATUS and isinstance(body, Submit):
            query = Query(body.symbol, self.account, body.request.client_id or "")
            self._retry_at(when, query, retries + 1, body)
        else:
            self._retry_at(when, body, retries + 1, pending.original)

    def _naive_retry(self, reject: GatewayReject, body: Body, retries: int, now: int) -> None:
        policy = self.policy
        if reject.reason not in (*_RETRYABLE, RejectReason.UNKNOWN_STATUS):
            self._give_up(body, reject)
            return
        if retries >= policy.naive_max_retries:
            self._give_up(body, reject)
            return
        if isinstance(body, Submit):
            body = Submit(body.symbol, replace(body.request, client_id=self._next_id()))
        self._retry_at(now + policy.naive_retry_ns, body, retries + 1, None)

    def _on_query(self, result: QueryResult) -> None:
        pending = self._pending.pop(result.request_id)
        original = pending.original
        if original is not None and not result.found:
            # The order never reached the engine and never will: the same id is safe to resend.
            self._dispatch(original, pending.retries)

    def _give_up(self, body: Body, reject: GatewayReject) -> None:
        self.stats.given_up += 1
        if self._on_give_up is not None:
            self._on_give_up(body, reject)
