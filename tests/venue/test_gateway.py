"""Gateway: scopes, IP allow-lists, 429/418 with counters, overload policy, unknown status."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.journal import ORDER_QUERY, OVERLOAD_PASSED, REQUEST_THROTTLED, Journal
from harness.sim.rng import make_stream
from harness.venue.exchange.orders import OrderRequest, OrderType, Side, TimeInForce
from harness.venue.exchange.requests import Cancel, Submit
from harness.venue.gateway.engine_queue import EngineQueue, QueueSettings
from harness.venue.gateway.gateway import (
    ApiKey,
    ApiRequest,
    Body,
    Forward,
    Gateway,
    GatewayReject,
    Outcome,
    Query,
    QueryResult,
    RejectReason,
    Respond,
    Scope,
    ThrottleRecord,
    Usage,
    Withdraw,
)
from harness.venue.gateway.rate_limits import (
    NS_PER_S,
    TEN_S_NS,
    Limits,
    RateLimiter,
    RateLimitSettings,
)
from harness.venue.gateway.ws_limit import ConnectionLimit

T0 = 1_723_161_600 * NS_PER_S
MS = 1_000_000
SYMBOL = "BTCUSDT"


def make_gateway(
    *,
    limits: Limits | None = None,
    queue: QueueSettings | None = None,
    strikes: int = 3,
    records: list[ThrottleRecord] | None = None,
) -> Gateway:
    keys = [
        ApiKey("k-trader", "trader", (Scope.READ, Scope.TRADE), ("10.0.0.1",)),
        ApiKey("k-reader", "trader", (Scope.READ,)),
        ApiKey("k-other", "other"),
    ]
    limiter = RateLimiter(
        RateLimitSettings(limits=limits or Limits(), strikes_before_ban=strikes, strike_grace_ns=0)
    )
    settings = queue or QueueSettings(service_rate_per_s=1_000, overload_depth=None)
    queues = {SYMBOL: EngineQueue(SYMBOL, settings, make_stream(3, f"engine_queue:{SYMBOL}"))}
    return Gateway(keys, limiter, queues, record=None if records is None else records.append)


def order(cid: str, *, reduce_only: bool = False, account: str = "trader") -> Submit:
    request = OrderRequest(
        account=account,
        side=Side.SELL if reduce_only else Side.BUY,
        qty=1,
        type=OrderType.MARKET,
        tif=TimeInForce.IOC,
        reduce_only=reduce_only,
        client_id=cid,
    )
    return Submit(SYMBOL, request)


_ids = iter(range(1, 1_000_000))


def send(
    gw: Gateway, body: Body, now: int, *, key: str = "k-trader", ip: str = "10.0.0.1"
) -> list[Outcome]:
    return gw.on_request(ApiRequest(key, ip, next(_ids), body), now)


def rejected(outcomes: list[Outcome]) -> GatewayReject:
    assert len(outcomes) == 1
    (only,) = outcomes
    assert isinstance(only, Respond)
    assert isinstance(only.response, GatewayReject)
    return only.response


def test_forward_at_the_queue_completion_with_counters() -> None:
    gw = make_gateway()
    first = send(gw, order("c1"), T0)
    second = send(gw, order("c2"), T0)
    assert first == [Forward(order("c1"), T0 + MS, first[0].request_id, Usage(0, 1, 1), 0)]  # type: ignore[union-attr]
    assert isinstance(second[0], Forward)
    assert (second[0].at, second[0].queue_delay_ns, second[0].usage) == (
        T0 + 2 * MS,
        MS,
        Usage(0, 2, 2),
    )


def test_trade_scoped_key_cannot_withdraw() -> None:
    records: list[ThrottleRecord] = []
    gw = make_gateway(records=records)
    answer = rejected(send(gw, Withdraw("trader", "USDT", 1), T0))
    assert (answer.status, answer.reason) == (403, RejectReason.SCOPE)
    assert records[0].kind == REQUEST_THROTTLED
    assert records[0].fields["reason"] == "SCOPE"
    assert records[0].fields["endpoint"] == "withdraw"


def test_no_key_may_hold_the_withdraw_scope() -> None:
    with pytest.raises(ValueError, match="withdraw"):
        ApiKey("k", "a", (Scope.TRADE, Scope.WITHDRAW))


def test_read_only_key_cannot_trade_but_can_query() -> None:
    gw = make_gateway()
    answer = rejected(send(gw, order("c1"), T0, key="k-reader", ip="1.2.3.4"))
    assert (answer.status, answer.reason) == (403, RejectReason.SCOPE)
    cancel = rejected(send(gw, Cancel(SYMBOL, "trader", "c1"), T0, key="k-reader"))
    assert cancel.reason is RejectReason.SCOPE
    (result,) = send(gw, Query(SYMBOL, "trader", "c1"), T0, key="k-reader")
    assert isinstance(result, Respond)
    assert isinstance(result.response, QueryResult)


def test_key_from_an_ip_off_its_allow_list_is_rejected() -> None:
    records: list[ThrottleRecord] = []
    gw = make_gateway(records=records)
    answer = rejected(send(gw, order("c1"), T0, ip="10.0.0.2"))
    assert (answer.status, answer.reason) == (403, RejectReason.IP_NOT_ALLOWED)
    assert records[0].fields["ip"] == "10.0.0.2"
    # Nothing was counted: the allowed IP still has its whole budget.
    (ok,) = send(gw, order("c1"), T0)
    assert isinstance(ok, Forward)
    assert ok.usage == Usage(0, 1, 1)


def test_unknown_key_and_foreign_account() -> None:
    gw = make_gateway()
    assert rejected(send(gw, order("c1"), T0, key="nope")).reason is RejectReason.UNKNOWN_KEY
    foreign = rejected(send(gw, order("c1", account="other"), T0))
    assert (foreign.status, foreign.reason) == (403, RejectReason.ACCOUNT_MISMATCH)
    bad_symbol = Cancel("ETHUSDT", "trader", "c1")
    assert rejected(send(gw, bad_symbol, T0)).reason is RejectReason.UNKNOWN_SYMBOL


def test_429_carries_retry_after_and_counters_at_the_window_edge() -> None:
    records: list[ThrottleRecord] = []
    gw = make_gateway(limits=Limits(orders_10s=2), records=records)
    edge = T0 + TEN_S_NS - 1
    assert isinstance(send(gw, order("c1"), edge - 5)[0], Forward)
    assert isinstance(send(gw, order("c2"), edge - 4)[0], Forward)
    answer = rejected(send(gw, order("c3"), edge))
    assert (answer.status, answer.reason, answer.limit) == (
        429,
        RejectReason.RATE_LIMIT,
        "ORDERS_10S",
    )
    assert answer.retry_after_ns == 1
    assert answer.usage == Usage(0, 2, 2)
    assert records[-1].fields["orders_10s"] == 2
    assert records[-1].fields["retry_after_ns"] == 1
    (next_window,) = send(gw, order("c3"), edge + 1)
    assert isinstance(next_window, Forward)
    assert next_window.usage == Usage(0, 1, 3)


def test_ignoring_retry_after_escalates_to_418() -> None:
    gw = make_gateway(limits=Limits(orders_10s=1), strikes=2)
    assert isinstance(send(gw, order("c1"), T0)[0], Forward)
    assert rejected(send(gw, order("c2"), T0 + MS)).status == 429
    assert rejected(send(gw, order("c2"), T0 + 2 * MS)).status == 429
    ban = rejected(send(gw, order("c2"), T0 + 3 * MS))
    assert (ban.status, ban.reason, ban.ban_ns) == (418, RejectReason.IP_BANNED, 120 * NS_PER_S)
    during = rejected(send(gw, Cancel(SYMBOL, "trader", "c1"), T0 + 4 * MS))
    assert during.status == 418
    assert during.retry_after_ns == 120 * NS_PER_S - MS


def test_reduce_only_exit_passes_overload_new_orders_do_not() -> None:
    records: list[ThrottleRecord] = []
    queue = QueueSettings(service_rate_per_s=100, overload_depth=3, timeout_ns=60 * NS_PER_S)
    gw = make_gateway(queue=queue, records=records)
    for i in range(3):
        assert isinstance(send(gw, order(f"c{i}"), T0)[0], Forward)
    answer = rejected(send(gw, order("c9"), T0))
    assert (answer.status, answer.reason, answer.queue_depth) == (503, RejectReason.OVERLOADED, 3)
    assert answer.definitive
    assert records[-1].fields["queue_depth"] == 3
    (exit_,) = send(gw, order("x1", reduce_only=True), T0)
    assert isinstance(exit_, Forward)
    assert exit_.at == T0 + 40 * MS
    # Journaled: the exit went into a queue deep enough to refuse new orders.
    passed = records[-1]
    assert (passed.ts, passed.kind, passed.account) == (T0, OVERLOAD_PASSED, "trader")
    assert passed.fields["client_id"] == "x1"
    assert passed.fields["queue_depth"] == 3
    assert passed.fields["outcome"] == "queued"
    assert passed.fields["completion_ns"] == T0 + 40 * MS
    (cancel,) = send(gw, Cancel(SYMBOL, "trader", "c0"), T0)
    assert isinstance(cancel, Forward)


def test_old_overload_policy_rejects_exits() -> None:
    queue = QueueSettings(service_rate_per_s=100, overload_depth=1, exits_pass_overload=False)
    gw = make_gateway(queue=queue)
    assert isinstance(send(gw, order("c1"), T0)[0], Forward)
    assert rejected(send(gw, order("x1", reduce_only=True), T0)).reason is RejectReason.OVERLOADED


def test_unknown_status_may_still_execute_and_the_query_tells() -> None:
    queue = QueueSettings(
        service_rate_per_s=100,
        overload_depth=None,
        timeout_ns=15 * MS,
        unknown_share=Fraction(1),
        unknown_executes=Fraction(1),
    )
    records: list[ThrottleRecord] = []
    gw = make_gateway(queue=queue, records=records)
    assert isinstance(send(gw, order("c1"), T0)[0], Forward)
    respond, forward = send(gw, order("c2"), T0)
    assert isinstance(respond, Respond) and isinstance(forward, Forward)
    assert isinstance(respond.response, GatewayReject)
    assert respond.response.reason is RejectReason.UNKNOWN_STATUS
    assert not respond.response.definitive
    assert respond.at == T0 + 15 * MS  # answered at the timeout
    assert forward.at == T0 + 20 * MS  # yet still reaches the engine
    assert forward.queue_delay_ns == 10 * MS
    assert records[-1].ts == T0  # journaled when decided, so the journal stays in time order
    # A query admitted later completes after the order, so its answer is definitive.
    gw.queues[SYMBOL].settings = QueueSettings(service_rate_per_s=100, overload_depth=None)
    (answer,) = send(gw, Query(SYMBOL, "trader", "c2"), T0 + 15 * MS)
    assert isinstance(answer, Respond) and isinstance(answer.response, QueryResult)
    assert answer.response.found
    assert answer.at == T0 + 30 * MS
    query = records[-1]
    assert (query.ts, query.kind, query.fields["client_id"]) == (T0 + 15 * MS, ORDER_QUERY, "c2")
    assert query.fields["found"] is True
    assert query.fields["answer_ns"] == T0 + 30 * MS
    (missing,) = send(gw, Query(SYMBOL, "trader", "never-sent"), T0 + 15 * MS)
    assert isinstance(missing, Respond) and isinstance(missing.response, QueryResult)
    assert not missing.response.found


def test_lost_unknown_order_is_not_found() -> None:
    queue = QueueSettings(
        service_rate_per_s=100,
        overload_depth=None,
        timeout_ns=15 * MS,
        unknown_share=Fraction(1),
        unknown_executes=Fraction(0),
    )
    gw = make_gateway(queue=queue)
    assert isinstance(send(gw, order("c1"), T0)[0], Forward)
    (respond,) = send(gw, order("c2"), T0)
    assert isinstance(respond, Respond)
    gw.queues[SYMBOL].settings = QueueSettings(service_rate_per_s=100, overload_depth=None)
    (answer,) = send(gw, Query(SYMBOL, "trader", "c2"), T0 + 5 * MS)
    assert isinstance(answer, Respond) and isinstance(answer.response, QueryResult)
    assert not answer.response.found


def test_records_go_into_the_journal() -> None:
    journal = Journal()
    gw_records: list[ThrottleRecord] = []
    gw = make_gateway(limits=Limits(orders_10s=1), records=gw_records)
    send(gw, order("c1"), T0)
    send(gw, order("c2"), T0 + 1)
    send(gw, order("c3"), T0 + 2, ip="9.9.9.9")
    for record in gw_records:
        journal.append(record.ts, record.kind, record.account, record.symbol, **record.fields)
    assert len(journal) == 2
    assert [r.fields["reason"] for r in journal.records()] == ["RATE_LIMIT", "IP_NOT_ALLOWED"]


def test_an_order_id_that_reached_the_engine_is_never_forwarded_again() -> None:
    records: list[ThrottleRecord] = []
    gw = make_gateway(records=records)
    (first,) = send(gw, order("c1"), T0)
    assert isinstance(first, Forward)
    # Long after: the market order filled and closed, so the engine would take the id again.
    answer = rejected(send(gw, order("c1"), T0 + 60 * NS_PER_S))
    assert (answer.status, answer.reason) == (400, RejectReason.DUPLICATE_CLIENT_ID)
    assert [r.fields["reason"] for r in records] == ["DUPLICATE_CLIENT_ID"]
    # The record is per account: another account may use the same id.
    (other,) = send(gw, order("c1", account="other"), T0, key="k-other")
    assert isinstance(other, Forward)


def test_a_websocket_connection_over_its_message_limit_is_closed() -> None:
    records: list[ThrottleRecord] = []
    gw = make_gateway(records=records)
    gw.ws_limit = ConnectionLimit(10, NS_PER_S)

    def over_ws(i: int, now: int) -> list[Outcome]:
        return gw.on_request(ApiRequest("k-trader", "10.0.0.1", i, order(f"w{i}"), "ws:t"), now)

    assert all(isinstance(over_ws(i, T0 + i * MS)[0], Forward) for i in range(10))
    answer = rejected(over_ws(10, T0 + 10 * MS))
    assert (answer.status, answer.reason, answer.retry_after_ns) == (
        1008,
        RejectReason.WS_DISCONNECTED,
        NS_PER_S,
    )
    assert records[-1].fields["reason"] == "WS_DISCONNECTED"
    # REST requests of the same key are not affected.
    assert isinstance(send(gw, order("rest"), T0 + 11 * MS)[0], Forward)
    assert isinstance(over_ws(11, T0 + 10 * MS + NS_PER_S)[0], Forward)


def test_an_ip_whose_websocket_connections_keep_closing_is_banned() -> None:
    """MECHANICS 6: the venue bans an IP it keeps disconnecting; the ban is the 418 ladder's
    (2 minutes, then 4), and REST requests from the IP are refused too while it lasts."""
    records: list[ThrottleRecord] = []
    gw = make_gateway(records=records)
    gw.ws_limit = ConnectionLimit(10, NS_PER_S, closes_before_ban=2, close_window_ns=60 * NS_PER_S)
    request_ids = iter(range(1, 1_000))

    def flood(start: int) -> GatewayReject:
        """Eleven messages within 10 ms from `start`; the answer to the eleventh."""
        for i in range(10):
            body = order(f"w{start}-{i}")
            request = ApiRequest("k-trader", "10.0.0.1", next(request_ids), body, "ws:t")
            assert isinstance(gw.on_request(request, start + i * MS)[0], Forward)
        body = order(f"w{start}-10")
        request = ApiRequest("k-trader", "10.0.0.1", next(request_ids), body, "ws:t")
        return rejected(gw.on_request(request, start + 10 * MS))

    assert flood(T0).reason is RejectReason.WS_DISCONNECTED  # first close
    banned = flood(T0 + 2 * NS_PER_S)  # second close within the minute: banned
    assert (banned.status, banned.reason) == (418, RejectReason.IP_BANNED)
    assert banned.ban_ns == banned.retry_after_ns == 120 * NS_PER_S
    assert records[-1].fields["ban_ns"] == 120 * NS_PER_S
    assert records[-1].fields["reason"] == "IP_BANNED"
    # REST from the same IP is banned as well, with the time left.
    rest = rejected(send(gw, order("rest"), T0 + 3 * NS_PER_S))
    assert (rest.reason, rest.retry_after_ns) == (
        RejectReason.IP_BANNED,
        120 * NS_PER_S - NS_PER_S + 10 * MS,
    )
    # After the ban, two more closes: the next ban doubles.
    later = T0 + 200 * NS_PER_S
    assert flood(later).reason is RejectReason.WS_DISCONNECTED
    assert flood(later + 2 * NS_PER_S).ban_ns == 240 * NS_PER_S
