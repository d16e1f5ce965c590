"""The resilient client against the real gateway, engine queue and matching engine on SimPy.

Wiring as the venue will have it: client -> uplink Link -> Gateway -> (engine queue completion
time) -> MatchingEngine -> downlink Link -> client. Gateway answers go down the same link.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from harness.agents.resilient_client import ResilientClient, RetryPolicy
from harness.journal import LIMITS_CHANGED
from harness.sim.clock import NS_PER_MS, NS_PER_S, SimEnv
from harness.sim.latency import Constant, Link
from harness.venue.exchange.matching import EngineConfig, MatchingEngine
from harness.venue.exchange.orders import Event, Fill, OrderRequest, Side
from harness.venue.exchange.requests import Cancel, CancelAll, Submit, VenueRequest
from harness.venue.gateway.engine_queue import EngineQueue, QueueSettings
from harness.venue.gateway.gateway import (
    ApiKey,
    ApiRequest,
    Forward,
    Gateway,
    GatewayReject,
    RejectReason,
    ThrottleRecord,
    Usage,
)
from harness.venue.gateway.rate_limits import Endpoint, Limits, RateLimiter, RateLimitSettings
from harness.venue.gateway.tightening import Step, TighteningSchedule

T0 = 1_723_161_600 * NS_PER_S + 200 * NS_PER_MS  # 200 ms into a 10 s window
SYMBOL = "BTCUSDT"
P = 600_000  # 60,000.0 USDT in ticks of 0.1
AGENT = "agent"

CONFIG = EngineConfig(
    symbol=SYMBOL,
    tick_size=Fraction(1, 10),
    lot_size=Fraction(1, 1000),
    min_notional=Fraction(5),
    price_band=None,
    market_take_bound=None,
)

TIGHT = Limits(weight_1m=240, orders_10s=30, orders_1m=120)  # the default limits / 10


class World:
    """One agent, one symbol: the pieces wired with SimPy callbacks and latency links."""

    def __init__(
        self, *, naive: bool, limits: Limits, queue: QueueSettings, seed: int = 11
    ) -> None:
        self.env = env = SimEnv(T0, seed)
        self.position = 5  # a long the agent must exit
        self.engine = MatchingEngine(CONFIG, lambda account, symbol: self.position)
        self.engine.on_snapshot(
            [(P - i, 50) for i in range(1, 20)], [(P + i, 50) for i in range(1, 20)], T0
        )
        self.records: list[ThrottleRecord] = []
        self.gateway = Gateway(
            [ApiKey("key", AGENT, ips=("10.0.0.1",))],
            RateLimiter(RateLimitSettings()),
            {SYMBOL: EngineQueue(SYMBOL, queue, env.streams.get(f"engine_queue:{SYMBOL}"))},
            limits=TighteningSchedule(Limits(), [Step(T0, limits)], record=self.records.append),
            record=self.records.append,
        )
        self.up: Link[ApiRequest] = Link(env, "agent/orders", Constant(NS_PER_MS), self._arrive)
        self.down: Link[object] = Link(env, "agent/responses", Constant(NS_PER_MS), self._answer)
        self.client = ResilientClient(
            env,
            AGENT,
            "key",
            "10.0.0.1",
            self.up.send,
            env.streams.get("agent:jitter"),
            RetryPolicy(naive=naive),
        )
        self.exit_filled_at: int | None = None

    def _answer(self, message: object) -> None:
        self.client.on_response(message)  # type: ignore[arg-type]

    def _arrive(self, request: ApiRequest) -> None:
        for outcome in self.gateway.on_request(request, self.env.now):
            if isinstance(outcome, Forward):
                self.env.call_at(outcome.at, self._to_engine(outcome.message))
            else:
                self.env.call_at(outcome.at, self._to_agent(outcome.response))

    def _to_engine(self, message: VenueRequest) -> Callable[[], None]:
        return lambda: self._engine(message)

    def _to_agent(self, response: object) -> Callable[[], None]:
        return lambda: self._send_down(response)

    def _send_down(self, message: object) -> None:
        self.down.send(message)

    def _engine(self, message: VenueRequest) -> None:
        now = self.env.now
        events: list[Event]
        if isinstance(message, Submit):
            events = self.engine.submit(message.request, now)
        elif isinstance(message, Cancel):
            events = self.engine.cancel_by_client_id(message.account, message.client_id, now)
        elif isinstance(message, CancelAll):
            events = self.engine.cancel_all(message.account, now)
        else:
            raise AssertionError(f"no amends in these tests: {message!r}")
        for event in events:
            if isinstance(event, Fill) and event.account == AGENT:
                self.position += int(event.side) * event.qty
                if self.position == 0 and self.exit_filled_at is None:
                    self.exit_filled_at = now
            self.down.send(event)


def quote(i: int) -> OrderRequest:
    return OrderRequest(account=AGENT, side=Side.BUY, qty=1, price=P - 100 - i, tif="GTX")  # type: ignore[arg-type]


def exit_under_tightening(naive: bool) -> World:
    """Limits tightened 10x from T0; a burst of 40 quote orders (10 over the tightened 30 per
    10 s), then the exit 100 ms on."""
    world = World(naive=naive, limits=TIGHT, queue=QueueSettings(overload_depth=None))
    for i in range(40):
        world.client.submit(SYMBOL, quote(i))

    def exit_position() -> None:
        world.client.market(SYMBOL, Side.SELL, 5, reduce_only=True)

    world.env.call_at(T0 + 100 * NS_PER_MS, exit_position)
    world.env.run(T0 + 20 * NS_PER_S)
    return world


def total_rejects(world: World) -> int:
    return sum(n for reason, n in world.client.stats.rejected.items() if ":" not in reason)


def test_careful_client_gets_its_exit_through_with_fewer_rejects() -> None:
    careful = exit_under_tightening(naive=False)
    naive = exit_under_tightening(naive=True)
    assert careful.position == 0
    assert careful.exit_filled_at is not None
    assert careful.exit_filled_at < T0 + 11 * NS_PER_S  # right after the 10 s window resets
    assert naive.position == 5  # banned: the exit never reached the book
    assert total_rejects(careful) < total_rejects(naive)
    assert careful.client.stats.rejected["IP_BANNED"] == 0
    # Never doubled: every order accepted exactly once, all 41 of them.
    accepted = careful.client.stats.accepted
    assert max(accepted.values()) == 1
    assert len(accepted) == 41


def test_naive_client_escalates_to_a_418_ban() -> None:
    naive = exit_under_tightening(naive=True)
    stats = naive.client.stats
    assert stats.rejected["IP_BANNED"] > 0
    changed, *throttled = naive.records
    assert (changed.kind, changed.fields["orders_10s"]) == (LIMITS_CHANGED, 30)
    bans = [r for r in throttled if r.fields["reason"] == "IP_BANNED" and r.fields["ban_ns"]]
    assert len(bans) == 1
    assert bans[0].fields["ban_ns"] == 120 * NS_PER_S
    assert stats.given_up > 0
    # Every reject is journal-ready with the counters of its moment.
    assert all(r.fields["orders_10s"] == 30 for r in throttled if r.ts < T0 + 9 * NS_PER_S)


def test_rejects_are_reproducible() -> None:
    first = exit_under_tightening(naive=True).records
    again = exit_under_tightening(naive=True).records
    assert first == again


def unknown_status_world(naive: bool) -> World:
    """A slow engine where timeouts answer "unknown status" and half the orders still execute."""
    queue = QueueSettings(
        service_rate_per_s=100,
        overload_depth=None,
        timeout_ns=50 * NS_PER_MS,
        unknown_share=Fraction(1),
        unknown_executes=Fraction(1, 2),
    )
    world = World(naive=naive, limits=Limits(), queue=queue)
    for i in range(10):
        world.client.submit(SYMBOL, quote(i))
    world.env.run(T0 + 60 * NS_PER_S)
    return world


def test_unknown_status_is_reconciled_and_never_doubles() -> None:
    careful = unknown_status_world(naive=False)
    stats = careful.client.stats
    assert stats.rejected["UNKNOWN_STATUS"] > 0
    assert stats.queries > 0
    assert sorted(stats.accepted.values()) == [1] * 10
    assert stats.given_up == 0
    assert stats.doubled == 0
    # Every unknown order was settled by a query: found (it executed) or resent under its id.
    assert stats.reconciled_found > 0 and stats.reconciled_resent > 0
    assert stats.reconciled_found + stats.reconciled_resent <= stats.queries
    naive = unknown_status_world(naive=True)
    # The naive client resends under fresh ids: orders that did execute are placed again, and
    # each acceptance beyond an intent's first counts as doubled.
    assert len(naive.client.stats.accepted) > 10
    assert naive.client.stats.doubled == len(naive.client.stats.accepted) - 10
    assert naive.client.stats.reconciled_found == naive.client.stats.reconciled_resent == 0


def _recording_client(pace_ns: int = 0) -> tuple[SimEnv, ResilientClient, list[tuple[int, object]]]:
    env = SimEnv(T0, 5)
    sent: list[tuple[int, object]] = []
    client = ResilientClient(
        env,
        AGENT,
        "key",
        "10.0.0.1",
        lambda request: sent.append((env.now - T0, request.body)),
        env.streams.get("agent:jitter"),
        pace_ns=pace_ns,
    )
    return env, client, sent


def test_requests_held_during_a_pause_go_out_exits_and_cancels_first() -> None:
    env, client, sent = _recording_client()
    first = client.submit(SYMBOL, quote(0))
    usage = Usage(0, 30, 30)
    client.on_response(
        GatewayReject(
            T0,
            1,
            AGENT,
            SYMBOL,
            first,
            Endpoint.PLACE,
            429,
            RejectReason.RATE_LIMIT,
            usage,
            retry_after_ns=NS_PER_S,
        )
    )
    second = client.submit(SYMBOL, quote(1))
    client.market(SYMBOL, Side.SELL, 5, reduce_only=True)
    client.cancel(SYMBOL, "agent-0")
    assert len(sent) == 1  # paused: nothing else left
    env.run(T0 + 2 * NS_PER_S)
    released = [(t, type(body).__name__) for t, body in sent[1:]]
    assert released == [
        (NS_PER_S, "Submit"),
        (NS_PER_S, "Cancel"),
        (NS_PER_S, "Submit"),
        (NS_PER_S, "Submit"),
    ]
    exit_order, _, later, retried = (body for _, body in sent[1:])
    assert isinstance(exit_order, Submit) and exit_order.request.reduce_only
    assert isinstance(later, Submit) and later.request.client_id == second
    # The retried order keeps its id (idempotent) and queues behind what was held before it.
    assert isinstance(retried, Submit) and retried.request.client_id == first


def test_paced_client_spaces_its_messages() -> None:
    env, client, sent = _recording_client(pace_ns=100 * NS_PER_MS)
    for i in range(3):
        client.submit(SYMBOL, quote(i))
    env.run(T0 + NS_PER_S)
    assert [t for t, _ in sent] == [0, 100 * NS_PER_MS, 200 * NS_PER_MS]
