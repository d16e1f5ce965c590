"""The venue's API gateway: access control, rate limits and the engine queues, in that order.

Every agent request arrives wrapped in an `ApiRequest` (API key, source IP, a request id the
client picks to match answers) and leaves as outcomes the caller schedules on the SimPy clock:

- `Forward(message, at)`: hand the message to the venue (`Venue.on_request`) at `at`, its engine
  queue completion time (`env.call_at(at, ...)`);
- `Respond(response, at)`: send an answer down the agent's response link at `at`: a
  `GatewayReject`, or a `QueryResult` for a `Query`.

Checks, first failure wins (nothing after it is counted or queued):
0. a request over a websocket connection within the connection's message limit (else the
   connection closes: WS_DISCONNECTED, code 1008, with the time until it is back; see `ws_limit`;
   the close that makes an IP's connections closed too often bans the IP instead, 418);
1. the key exists (401 UNKNOWN_KEY), the source IP is on the key's allow-list (403
   IP_NOT_ALLOWED), the request names the key's own account (403 ACCOUNT_MISMATCH), the key's
   scopes allow the endpoint (403 SCOPE: trading needs TRADE, queries READ; withdrawals are
   outside the sim, no key can hold that scope, so every withdrawal is refused), the symbol is
   listed (400 UNKNOWN_SYMBOL), an order's client id has not reached the engine before (400
   DUPLICATE_CLIENT_ID: the engine only refuses duplicates among open orders, so without this a
   resent order that had already filled would execute twice);
2. rate limits with the limits in force now (429 RATE_LIMIT with Retry-After, 418 IP_BANNED);
3. the symbol's engine queue (503 OVERLOADED: refused, certainly not executed; 503
   UNKNOWN_STATUS: timed out, may still execute; see `engine_queue`).

Queries. The engine forgets closed orders, so the gateway keeps which client order ids reached an
engine (or will: it knows their completion times) and answers `Query` from that record. A query
passes through the same FIFO queue as orders, so when it is answered every order admitted before
it has reached the engine: "not found" is definitive, and resending the same client id is safe.

Every reject is passed to the `record` sink as a journal-ready `ThrottleRecord` (kind
`request_throttled`) stamped with the decision time, carrying the counters at that moment. So
are the two other decisions a reader needs to explain an overload: an exit (reduce-only order)
let into a queue deep enough to refuse new orders (`overload_passed`, with the depth and whether
it was queued or timed out into an unknown status), and every query's answer (`order_query`:
found or not, and when it is answered).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple, Protocol

from harness.journal import ORDER_QUERY, OVERLOAD_PASSED, REQUEST_THROTTLED, Value
from harness.venue.exchange.requests import Amend, Cancel, CancelAll, Submit, VenueRequest
from harness.venue.gateway.engine_queue import Admitted, EngineQueue, Kind, Overloaded, Unknown
from harness.venue.gateway.rate_limits import BANNED, OK, Endpoint, Limits, RateLimiter
from harness.venue.gateway.ws_limit import ConnectionLimit

UNAUTHORIZED: Final = 401
FORBIDDEN: Final = 403
BAD_REQUEST: Final = 400
UNAVAILABLE: Final = 503
WS_POLICY_CLOSE: Final = 1008
"""The websocket close code for a policy violation (too many messages)."""


class Scope(StrEnum):
    READ = "READ"
    TRADE = "TRADE"
    WITHDRAW = "WITHDRAW"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key trading for one account; `ips` None means any source IP."""

    key: str
    account: str
    scopes: tuple[Scope, ...] = (Scope.READ, Scope.TRADE)
    ips: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if Scope.WITHDRAW in self.scopes:
            raise ValueError(f"key {self.key}: withdrawals are disabled, no key may hold WITHDRAW")


@dataclass(frozen=True, slots=True)
class Query:
    """Order status by client order id (the reconciliation request after an unknown status)."""

    symbol: str
    account: str
    client_id: str


@dataclass(frozen=True, slots=True)
class Withdraw:
    account: str
    asset: str
    amount: int


Body = Submit | Cancel | CancelAll | Amend | Query | Withdraw


@dataclass(frozen=True, slots=True)
class ApiRequest:
    key: str
    ip: str
    request_id: int
    body: Body
    connection: str = ""
    """The websocket connection it came over; "" for REST."""


class RejectReason(StrEnum):
    WS_DISCONNECTED = "WS_DISCONNECTED"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    IP_NOT_ALLOWED = "IP_NOT_ALLOWED"
    ACCOUNT_MISMATCH = "ACCOUNT_MISMATCH"
    SCOPE = "SCOPE"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    DUPLICATE_CLIENT_ID = "DUPLICATE_CLIENT_ID"
    RATE_LIMIT = "RATE_LIMIT"
    IP_BANNED = "IP_BANNED"
    OVERLOADED = "OVERLOADED"
    UNKNOWN_STATUS = "UNKNOWN_STATUS"


@dataclass(frozen=True, slots=True)
class Usage:
    """The used-limit counters a venue response carries (as X-MBX-USED-WEIGHT-1M etc.)."""

    weight_1m: int = 0
    orders_10s: int = 0
    orders_1m: int = 0


@dataclass(frozen=True, slots=True)
class GatewayReject:
    """An answer from the gateway itself. Only UNKNOWN_STATUS leaves the order's fate open."""

    ts: int
    request_id: int
    account: str
    symbol: str
    client_id: str
    endpoint: Endpoint
    status: int
    reason: RejectReason
    usage: Usage
    retry_after_ns: int = 0
    limit: str = ""
    ban_ns: int = 0
    queue_depth: int = 0

    @property
    def definitive(self) -> bool:
        """True when the request certainly changed nothing."""
        return self.reason is not RejectReason.UNKNOWN_STATUS


@dataclass(frozen=True, slots=True)
class QueryResult:
    ts: int
    request_id: int
    account: str
    symbol: str
    client_id: str
    found: bool


@dataclass(frozen=True, slots=True)
class Delivered:
    """Status 200: the request reached the engine at `ts` after `queue_delay_ns` in its queue;
    the counters are those the gateway counted when it let the request through. The engine's own
    answers (accepted, rejected, fills) follow on the same link."""

    ts: int
    request_id: int
    account: str
    symbol: str
    client_id: str
    usage: Usage
    queue_delay_ns: int

    @property
    def status(self) -> int:
        return OK


Response = GatewayReject | QueryResult | Delivered


@dataclass(frozen=True, slots=True)
class Forward:
    message: VenueRequest
    at: int
    request_id: int
    usage: Usage
    queue_delay_ns: int


@dataclass(frozen=True, slots=True)
class Respond:
    response: Response
    at: int


Outcome = Forward | Respond


class ThrottleRecord(NamedTuple):
    """`journal.append(ts, kind, account, symbol, **fields)` ready."""

    ts: int
    kind: str
    account: str
    symbol: str
    fields: dict[str, Value]


RecordSink = Callable[[ThrottleRecord], object]


class LimitSource(Protocol):
    """Limits in force at a time (a tightening schedule), told the engine queue depths."""

    def limits(self, now: int) -> Limits: ...

    def observe_depth(self, symbol: str, depth: int, now: int) -> None: ...


def _account(body: Body) -> str:
    return body.request.account if isinstance(body, Submit) else body.account


def _classify(body: Body) -> tuple[Endpoint, Kind, Scope]:
    if isinstance(body, Submit):
        kind = Kind.EXIT if body.request.reduce_only else Kind.NEW_ORDER
        return Endpoint.PLACE, kind, Scope.TRADE
    if isinstance(body, Cancel):
        return Endpoint.CANCEL, Kind.CANCEL, Scope.TRADE
    if isinstance(body, CancelAll):
        return Endpoint.CANCEL_ALL, Kind.CANCEL, Scope.TRADE
    if isinstance(body, Amend):
        return Endpoint.AMEND, Kind.AMEND, Scope.TRADE
    if isinstance(body, Query):
        return Endpoint.QUERY, Kind.QUERY, Scope.READ
    # A withdrawal never reaches a queue (it fails the scope check); its kind is never used.
    return Endpoint.WITHDRAW, Kind.QUERY, Scope.WITHDRAW


def _client_id(body: Body) -> str:
    if isinstance(body, Submit):
        return body.request.client_id or ""
    if isinstance(body, Cancel | Amend | Query):
        return body.client_id
    return ""


class Gateway:
    """See the module docstring. Keys are looked up by their `key` string."""

    def __init__(
        self,
        keys: Iterable[ApiKey],
        limiter: RateLimiter,
        queues: Mapping[str, EngineQueue],
        *,
        limits: LimitSource | None = None,
        record: RecordSink | None = None,
        ws_limit: ConnectionLimit | None = None,
    ) -> None:
        self.keys = {k.key: k for k in keys}
        self.ws_limit = ws_limit
        self.limiter = limiter
        self.queues = dict(queues)
        self.limit_source = limits
        self._record = record
        # (symbol, account, client id) of every order that reached or will reach an engine.
        self._reached: dict[tuple[str, str, str], int] = {}

    def on_request(self, request: ApiRequest, now: int) -> list[Outcome]:
        """Decide one request arriving at `now`; see the module docstring for the order."""
        body = request.body
        endpoint, kind, scope = _classify(body)
        if request.connection and self.ws_limit is not None:
            closed_ns, ban_due = self.ws_limit.admit(request.connection, now, request.ip)
            if ban_due:
                ban = self.limiter.ban(request.ip, now)
                reason = RejectReason.IP_BANNED
                return [
                    self._reject(
                        request, endpoint, now, BANNED, reason, retry_after_ns=ban, ban_ns=ban
                    )
                ]
            if closed_ns:
                reason = RejectReason.WS_DISCONNECTED
                return [
                    self._reject(
                        request, endpoint, now, WS_POLICY_CLOSE, reason, retry_after_ns=closed_ns
                    )
                ]
        key = self.keys.get(request.key)
        if key is None:
            return [self._reject(request, endpoint, now, UNAUTHORIZED, RejectReason.UNKNOWN_KEY)]
        if key.ips is not None and request.ip not in key.ips:
            return [self._reject(request, endpoint, now, FORBIDDEN, RejectReason.IP_NOT_ALLOWED)]
        if _account(body) != key.account:
            return [self._reject(request, endpoint, now, FORBIDDEN, RejectReason.ACCOUNT_MISMATCH)]
        if isinstance(body, Withdraw) or scope not in key.scopes:
            return [self._reject(request, endpoint, now, FORBIDDEN, RejectReason.SCOPE)]
        queue = self.queues.get(body.symbol)
        if queue is None:
            return [self._reject(request, endpoint, now, BAD_REQUEST, RejectReason.UNKNOWN_SYMBOL)]
        if isinstance(body, Submit) and self._reached_before(body):
            reason = RejectReason.DUPLICATE_CLIENT_ID
            return [self._reject(request, endpoint, now, BAD_REQUEST, reason)]
        depth = queue.depth(now)
        source = self.limit_source
        limits = None
        if source is not None:
            source.observe_depth(body.symbol, depth, now)
            limits = source.limits(now)
        decision = self.limiter.check(key.account, request.ip, endpoint, now, limits)
        usage = Usage(decision.weight_1m, decision.orders_10s, decision.orders_1m)
        if not decision.ok:
            banned = decision.status == BANNED
            reason = RejectReason.IP_BANNED if banned else RejectReason.RATE_LIMIT
            return [
                self._reject(
                    request,
                    endpoint,
                    now,
                    decision.status,
                    reason,
                    usage,
                    retry_after_ns=decision.retry_after_ns,
                    limit=str(decision.limit),
                    ban_ns=decision.ban_ns,
                    queue_depth=depth,
                )
            ]
        admission = queue.admit(kind, now)
        if isinstance(admission, Overloaded):
            return [
                self._reject(
                    request,
                    endpoint,
                    now,
                    UNAVAILABLE,
                    RejectReason.OVERLOADED,
                    usage,
                    queue_depth=admission.depth,
                )
            ]
        if kind is Kind.EXIT and queue.overloaded(depth):
            self._note_exit_passed(request, admission, depth, now)
        if isinstance(admission, Admitted):
            completion: int | None = admission.completion_ns
            delay = admission.queue_delay_ns
            outcomes: list[Outcome] = []
        else:
            completion = admission.completion_ns
            # Waiting time before service, as for an admitted message (when it still executes).
            delay = 0 if completion is None else completion - queue.service_ns - now
            outcomes = [
                self._reject(
                    request,
                    endpoint,
                    now,
                    UNAVAILABLE,
                    RejectReason.UNKNOWN_STATUS,
                    usage,
                    queue_depth=admission.depth,
                    at=admission.answer_ns,
                )
            ]
        if isinstance(body, Query):
            if isinstance(admission, Admitted):
                found = (body.symbol, body.account, body.client_id) in self._reached
                answer = QueryResult(
                    admission.completion_ns,
                    request.request_id,
                    body.account,
                    body.symbol,
                    body.client_id,
                    found,
                )
                outcomes.append(Respond(answer, admission.completion_ns))
                self._note(
                    now,
                    ORDER_QUERY,
                    answer.account,
                    answer.symbol,
                    {
                        "answer_ns": answer.ts,
                        "client_id": answer.client_id,
                        "found": found,
                        "request_id": request.request_id,
                    },
                )
            return outcomes
        if completion is not None:
            if isinstance(body, Submit):
                reached = (body.symbol, body.request.account, body.request.client_id or "")
                self._reached[reached] = completion
            outcomes.append(Forward(body, completion, request.request_id, usage, delay))
        return outcomes

    def _note(
        self, now: int, kind: str, account: str, symbol: str, fields: dict[str, Value]
    ) -> None:
        if self._record is not None:
            self._record(ThrottleRecord(now, kind, account, symbol, fields))

    def _note_exit_passed(
        self, request: ApiRequest, admission: Admitted | Unknown, depth: int, now: int
    ) -> None:
        body = request.body
        assert isinstance(body, Submit)
        outcome = "queued" if isinstance(admission, Admitted) else "unknown"
        fields: dict[str, Value] = {
            "client_id": body.request.client_id or "",
            "completion_ns": admission.completion_ns or 0,
            "outcome": outcome,
            "queue_depth": depth,
            "request_id": request.request_id,
        }
        self._note(now, OVERLOAD_PASSED, body.request.account, body.symbol, fields)

    def _reached_before(self, body: Submit) -> bool:
        client_id = body.request.client_id
        return bool(client_id) and (body.symbol, body.request.account, client_id) in self._reached

    def _reject(
        self,
        request: ApiRequest,
        endpoint: Endpoint,
        now: int,
        status: int,
        reason: RejectReason,
        usage: Usage = Usage(),
        *,
        retry_after_ns: int = 0,
        limit: str = "",
        ban_ns: int = 0,
        queue_depth: int = 0,
        at: int | None = None,
    ) -> Respond:
        """The answer, sent at `at` (default now), journaled now with the counters of now."""
        body = request.body
        symbol = "" if isinstance(body, Withdraw) else body.symbol
        answer = GatewayReject(
            now,
            request.request_id,
            _account(body),
            symbol,
            _client_id(body),
            endpoint,
            status,
            reason,
            usage,
            retry_after_ns,
            limit,
            ban_ns,
            queue_depth,
        )
        if self._record is not None:
            fields: dict[str, Value] = {
                "ban_ns": ban_ns,
                "client_id": answer.client_id,
                "endpoint": str(endpoint),
                "ip": request.ip,
                "key": request.key,
                "limit": limit,
                "orders_10s": usage.orders_10s,
                "orders_1m": usage.orders_1m,
                "queue_depth": queue_depth,
                "reason": str(reason),
                "request_id": request.request_id,
                "retry_after_ns": retry_after_ns,
                "status": status,
                "weight_1m": usage.weight_1m,
            }
            self._record(ThrottleRecord(now, REQUEST_THROTTLED, answer.account, symbol, fields))
        return Respond(answer, now if at is None else at)
