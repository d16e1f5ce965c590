"""Random order flow through the real venue (engine + ledger): money and lots are conserved."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.journal import Journal
from harness.sim.clock import SimEnv
from harness.venue.exchange.orders import OrderRequest, OrderType, Side, TimeInForce
from harness.venue.exchange.requests import Amend, Cancel, CancelAll, Submit
from harness.venue.profiles.binance_usdm import BTCUSDT
from harness.venue.venue import Venue, VenueSettings

START = 1_723_161_256_000_000_000
MID = 600_000  # 60,000.0 USDT in ticks of 0.1
ACCOUNTS = ("a", "b", "c")

side_st = st.sampled_from([Side.BUY, Side.SELL])
account_st = st.sampled_from(ACCOUNTS)
price_st = st.integers(MID - 30, MID + 30)
qty_st = st.integers(1, 400)

submit_st = st.builds(
    lambda account, side, qty, price, kind, reduce_only: (
        "submit",
        account,
        side,
        qty,
        price,
        kind,
        reduce_only,
    ),
    account_st,
    side_st,
    qty_st,
    price_st,
    st.sampled_from(["GTC", "IOC", "FOK", "GTX", "MARKET"]),
    st.booleans(),
)
cancel_st = st.builds(lambda a, n: ("cancel", a, n), account_st, st.integers(1, 40))
amend_st = st.builds(
    lambda a, n, q, p: ("amend", a, n, q, p),
    account_st,
    st.integers(1, 40),
    qty_st,
    price_st | st.none(),
)
cancel_all_st = st.builds(lambda a: ("cancel_all", a), account_st)
depth_st = st.builds(
    lambda s, p, q: ("depth", s, p, q), side_st, st.integers(1, 40), st.integers(0, 500)
)
trade_st = st.builds(
    lambda s, p, q: ("trade", s, p, q), side_st, st.integers(-40, 40), st.integers(1, 300)
)
step_st = st.one_of(submit_st, submit_st, cancel_st, amend_st, cancel_all_st, depth_st, trade_st)


def _venue() -> Venue:
    env = SimEnv(START, seed=1)
    venue = Venue(env, Journal(), {"BTCUSDT": BTCUSDT}, VenueSettings())
    for name in ACCOUNTS:
        venue.open_account(
            name, 50_000 * 10**8, leverage=20, isolated=name == "c", fee_tier="regular"
        )
    market = venue.markets["BTCUSDT"]
    for level in range(1, 41):
        market.depth(START, 1, MID - level, 200)
        market.depth(START, -1, MID + level, 200)
    venue.marks["BTCUSDT"] = MID
    market.engine.on_mark(MID, START)
    return venue


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(step_st, min_size=5, max_size=60))
def test_money_and_lots_are_conserved_after_every_step(steps: list[tuple[object, ...]]) -> None:
    venue = _venue()
    market = venue.markets["BTCUSDT"]
    ts = START
    for step in steps:
        ts += 1_000
        venue.env.run(until=ts)  # requests carry env.now; keep it with the market data
        op = step[0]
        if op == "submit":
            _, account, side, qty, price, kind, reduce_only = step
            market_order = kind == "MARKET"
            request = OrderRequest(
                account=str(account),
                side=side,  # type: ignore[arg-type]
                qty=int(qty),  # type: ignore[call-overload]
                type=OrderType.MARKET if market_order else OrderType.LIMIT,
                price=None if market_order else int(price),  # type: ignore[call-overload]
                tif=TimeInForce.IOC if market_order else TimeInForce(str(kind)),
                reduce_only=bool(reduce_only),
                client_id=f"{account}-{ts}",
            )
            venue.on_request(Submit("BTCUSDT", request))
        elif op == "cancel":
            venue.on_request(
                Cancel("BTCUSDT", str(step[1]), f"{step[1]}-{START + 1_000 * int(step[2])}")
            )  # type: ignore[call-overload]
        elif op == "amend":
            _, account, n, qty, price = step
            client_id = f"{account}-{START + 1_000 * int(n)}"  # type: ignore[call-overload]
            venue.on_request(Amend("BTCUSDT", str(account), client_id, int(qty), price))  # type: ignore[arg-type, call-overload]
        elif op == "cancel_all":
            venue.on_request(CancelAll("BTCUSDT", str(step[1])))
        elif op == "depth":
            _, side, offset, qty = step
            price = MID - int(offset) if side is Side.BUY else MID + int(offset)  # type: ignore[call-overload]
            market.depth(ts, int(side), price, int(qty))  # type: ignore[call-overload]
        else:
            _, side, offset, qty = step
            market.trade(ts, MID + int(offset), int(qty), int(side))  # type: ignore[call-overload]
        venue.ledger.check_conservation()
        for name in ACCOUNTS:
            tracked = {oid for oid, _ in venue.ledger.open_orders(name)}
            resting = {
                o.order_id for o in market.engine.open_orders(name) if o.type is OrderType.LIMIT
            }
            assert tracked == resting, "ledger's open orders drifted from the engine's"
    fills = sum(1 for record in venue.journal.records() if record.kind == "fill")
    positions = sum(1 for record in venue.journal.records() if record.kind == "position")
    assert fills == positions
