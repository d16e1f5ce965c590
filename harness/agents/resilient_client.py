"""An order client that survives a throttled gateway the way a careful production client does.

It extends `OrderClient` (same order methods, same client order ids) but sends every request as
an `ApiRequest` (key, IP, request id) and reads the gateway's answers and the venue's order events
from its response link. The careful mode (the default):

- honours Retry-After: after a 429 or 418 (or its websocket connection closed for sending too
  many messages) it sends nothing at all until the time it was told, so
  it collects no strikes beyond what was already in flight; what the strategy asks meanwhile is
  held and sent at the end of the pause, risk-reducing requests (cancels, exits: reduce-only
  market and stop orders, reconciliation queries) first;
- paces its sends when told to (`pace_ns` between two messages: under a websocket connection's
  message limit), holding the rest in the same queue;
- retries overload (503 OVERLOADED) and rate-limit rejects with exponential backoff, `base_ns x
  2^attempt` capped at `cap_ns`, with "equal jitter" (half the delay fixed, half uniform, drawn
  from the numpy Generator it is given) so many clients do not retry in lockstep;
- spends a retry budget: at most `max_retries` per request, and one token per retry from a
  bucket of `budget` tokens refilled one per `budget_refill_ns`, so a storm of rejects cannot turn
  into a storm of retries; a request out of retries or tokens is given up and reported.
  Reconciliation queries take no tokens: an order whose fate is open must be settled;
- keeps client order ids idempotent: a retried order carries the id of the first attempt;
- reconciles after 503 UNKNOWN_STATUS by querying the order's client id. The gateway answers a
  query after every earlier message of the symbol reached the engine, so "not found" is final and
  the order is resent with the same id; "found" means it reached the engine and its events come
  on their own. An order is never sent twice while its fate is open, so it is never doubled.

`naive=True` is the comparison: a fixed fast retry (`naive_retry_ns`) after any reject, Retry-After
ignored, no budget (only `naive_max_retries` per request), and a fresh client order id on every
resend, as a client that simply calls "place order" again does. Unknown statuses are treated as
failures and resent, which can double an order that did execute.

Both modes keep the same `ClientStats`: what was sent and how it was answered, queue delays,
order-to-ack latencies and the exit intents (reduce-only orders) the throttling report checks.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from harness.agents.client import OrderClient
from harness.sim.clock import SimEnv
from harness.venue.exchange.orders import Accepted, Event, OrderType, Rejected, Side
from harness.venue.exchange.requests import Cancel, CancelAll, Submit
from harness.venue.gateway.gateway import (
    ApiRequest,
    Body,
    Delivered,
    GatewayReject,
    Query,
    QueryResult,
    RejectReason,
    Response,
)

MS = 1_000_000

_WAIT = (RejectReason.RATE_LIMIT, RejectReason.IP_BANNED, RejectReason.WS_DISCONNECTED)
"""Rejects that say how long to wait (Retry-After, a ban, a reconnect)."""
_RETRYABLE = (*_WAIT, RejectReason.OVERLOADED)


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
class ExitIntent:
    """A reduce-only order the strategy asked for, and when (if ever) it reached the engine."""

    symbol: str
    side: Side
    qty: int
    asked_at: int
    stop_price: int | None
    reached_at: int | None = None


@dataclass(slots=True)
class ClientStats:
    sent: int = 0
    delivered: int = 0
    """Requests that reached the engine (a 200 from the gateway)."""
    retries: int = 0
    queries: int = 0
    given_up: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    """Gateway rejects by reason, and engine rejects as `engine:<reason>`."""
    accepted: Counter[str] = field(default_factory=Counter)
    """Engine acceptances by client order id: a value above 1 is a doubled order."""
    queue_delays_ns: list[int] = field(default_factory=list)
    ack_latencies_ns: list[int] = field(default_factory=list)
    """From the strategy's order to the first engine answer about it, per order."""
    exits: list[ExitIntent] = field(default_factory=list)
    reconciled_found: int = 0
    """Reconciliation queries answered "found": the unknown order had reached the engine."""
    reconciled_resent: int = 0
    """Answered "not found": the order was resent under its own id."""
    doubled: int = 0
    """Orders the engine accepted once more for an intent already accepted (a naive resend under
    a fresh id of an order that did execute); a careful client keeps this at 0."""


@dataclass(slots=True)
class _Pending:
    body: Body
    retries: int
    intent: int
    original: Submit | None = None
    """For a reconciliation query: the order whose fate it asks about."""


@dataclass(slots=True)
class _Intent:
    """One request as the strategy asked for it, across all its retries."""

    asked_at: int
    client_id: str = ""
    """The order's id as the strategy knows it (a naive resend carries another)."""
    acked: bool = False
    accepted: bool = False
    exit: ExitIntent | None = None


def _is_exit(body: Submit) -> bool:
    """A stop or exit intent: a reduce-only order meant to take liquidity now or on a trigger
    (a resting reduce-only limit, a take-profit, is not one)."""
    request = body.request
    return request.reduce_only and request.type is not OrderType.LIMIT


def _urgent(body: Body) -> bool:
    """Requests that reduce risk (or settle an open fate) go first after a pause."""
    if isinstance(body, Submit):
        return _is_exit(body)
    return isinstance(body, Cancel | CancelAll | Query)


class ResilientClient(OrderClient):
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
        connection: str = "",
        pace_ns: int = 0,
    ) -> None:
        super().__init__(account, self._send_body)
        self.env = env
        self.key = key
        self.ip = ip
        self.connection = connection
        self.policy = policy or RetryPolicy()
        self.stats = ClientStats()
        self._send_api = send
        self._rng = rng
        self._on_event = on_event
        self._on_give_up = on_give_up
        self._request_ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._intents: list[_Intent] = []
        self._intent_of_request: dict[int, int] = {}
        self._intent_of_order: dict[str, int] = {}
        self._held: list[tuple[bool, int, _Pending]] = []
        self._held_seq = itertools.count()
        self._paused_until = env.now
        self._pace_ns = 0 if self.policy.naive else pace_ns
        self._next_send_at = env.now
        self._tokens = self.policy.budget
        self._refilled_at = env.now

    # --- sending --------------------------------------------------------------------------------
    def _send_body(self, body: Body) -> None:
        """A request from the strategy: a new intent."""
        now = self.env.now
        intent = _Intent(now)
        if isinstance(body, Submit):
            intent.client_id = body.request.client_id or ""
        if isinstance(body, Submit) and _is_exit(body):
            request = body.request
            intent.exit = ExitIntent(
                body.symbol, request.side, request.qty, now, request.stop_price
            )
            self.stats.exits.append(intent.exit)
        self._intents.append(intent)
        self._dispatch(_Pending(body, 0, len(self._intents) - 1))

    def _ready_at(self) -> int:
        return max(self._paused_until, self._next_send_at)

    def _dispatch(self, pending: _Pending) -> None:
        """Send now, or hold it while a 429/418 pause runs or pacing asks to wait (careful
        mode); held requests go first, so nothing overtakes them."""
        if self.env.now < self._ready_at() or self._held:
            if not self._held:
                self.env.call_at(self._ready_at(), self._release)
            self._held.append((not _urgent(pending.body), next(self._held_seq), pending))
            return
        self._send_now(pending)

    def _send_now(self, pending: _Pending) -> None:
        request_id = next(self._request_ids)
        self._pending[request_id] = pending
        self._intent_of_request[request_id] = pending.intent
        body = pending.body
        if isinstance(body, Submit) and body.request.client_id is not None:
            self._intent_of_order[body.request.client_id] = pending.intent
        self.stats.sent += 1
        if isinstance(body, Query):
            self.stats.queries += 1
        self._next_send_at = self.env.now + self._pace_ns
        self._send_api(ApiRequest(self.key, self.ip, request_id, body, self.connection))

    def _release(self) -> None:
        """Send what was held, urgent requests first, as far as the pause and pacing allow;
        wait again for the rest."""
        self._held.sort(key=lambda h: (h[0], h[1]))
        while self._held and self.env.now >= self._ready_at():
            self._send_now(self._held.pop(0)[2])
        if self._held:
            self.env.call_at(self._ready_at(), self._release)

    def _retry_at(self, when: int, pending: _Pending) -> None:
        self.stats.retries += 1
        self.env.call_at(when, lambda: self._dispatch(pending))

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
        elif isinstance(message, Delivered):
            self._on_delivered(message)
        else:
            self._on_engine_event(message)

    def _on_delivered(self, delivered: Delivered) -> None:
        # An unknown-status order that still executed was already answered: not pending any more.
        self._pending.pop(delivered.request_id, None)
        stats = self.stats
        stats.delivered += 1
        stats.queue_delays_ns.append(delivered.queue_delay_ns)
        intent = self._intents[self._intent_of_request[delivered.request_id]]
        exit_intent = intent.exit
        if exit_intent is not None and exit_intent.reached_at is None:
            exit_intent.reached_at = delivered.ts

    def _on_engine_event(self, event: Event) -> None:
        number = self._intent_of_order.get(event.client_id)
        if isinstance(event, Accepted):
            self.stats.accepted[event.client_id] += 1
            if number is not None:
                if self._intents[number].accepted:
                    self.stats.doubled += 1
                self._intents[number].accepted = True
        elif isinstance(event, Rejected):
            self.stats.rejected[f"engine:{event.reason}"] += 1
        if number is not None:
            intent = self._intents[number]
            if not intent.acked:
                intent.acked = True
                self.stats.ack_latencies_ns.append(self.env.now - intent.asked_at)
        if self._on_event is not None:
            self._on_event(event)

    def _on_reject(self, reject: GatewayReject) -> None:
        self.stats.rejected[str(reject.reason)] += 1
        pending = self._pending.pop(reject.request_id)
        now = self.env.now
        if self.policy.naive:
            self._naive_retry(reject, pending, now)
            return
        if reject.reason in _WAIT:
            self._paused_until = max(self._paused_until, reject.ts + reject.retry_after_ns)
        if reject.reason not in (*_RETRYABLE, RejectReason.UNKNOWN_STATUS):
            self._give_up(pending, reject)
            return
        body = pending.body
        reconcile = reject.reason is RejectReason.UNKNOWN_STATUS and isinstance(body, Submit)
        # Settling an open fate is not optional: reconciliation queries spend no budget.
        budgeted = not (reconcile or isinstance(body, Query))
        if pending.retries >= self.policy.max_retries or (budgeted and not self._take_token(now)):
            self._give_up(pending, reject)
            return
        when = max(now + self._backoff(pending.retries), self._paused_until)
        if reconcile and isinstance(body, Submit):
            query = Query(body.symbol, self.account, body.request.client_id or "")
            self._retry_at(when, _Pending(query, pending.retries + 1, pending.intent, body))
        else:
            self._retry_at(when, replace(pending, retries=pending.retries + 1))

    def _naive_retry(self, reject: GatewayReject, pending: _Pending, now: int) -> None:
        policy = self.policy
        body = pending.body
        if reject.reason not in (*_RETRYABLE, RejectReason.UNKNOWN_STATUS):
            self._give_up(pending, reject)
            return
        if pending.retries >= policy.naive_max_retries:
            self._give_up(pending, reject)
            return
        if isinstance(body, Submit):
            body = Submit(body.symbol, replace(body.request, client_id=self._next_id()))
        retry = _Pending(body, pending.retries + 1, pending.intent)
        self._retry_at(now + policy.naive_retry_ns, retry)

    def _on_query(self, result: QueryResult) -> None:
        pending = self._pending.pop(result.request_id)
        original = pending.original
        if original is None:
            return
        if result.found:
            self.stats.reconciled_found += 1
        else:
            # The order never reached the engine and never will: the same id is safe to resend.
            self.stats.reconciled_resent += 1
            self._dispatch(_Pending(original, pending.retries, pending.intent))

    def _give_up(self, pending: _Pending, reject: GatewayReject) -> None:
        """Report the request as the strategy sent it (its own client order id)."""
        self.stats.given_up += 1
        if self._on_give_up is not None:
            client_id = self._intents[pending.intent].client_id
            if client_id:
                reject = replace(reject, client_id=client_id)
            self._on_give_up(pending.body, reject)
