"""The order client: the only way a strategy acts, every request crossing the uplink.

`OrderClient` builds the requests (client order ids `<agent>-<n>`) and hands each to `send`. The
client a run gives a strategy is `ResilientClient` (agents/resilient_client.py), which extends this
one: same order methods, but every request crosses the venue's gateway and may be retried.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

from harness.venue.exchange.orders import OrderRequest, OrderType, Side, TimeInForce, TriggerSource
from harness.venue.exchange.requests import Amend, Cancel, CancelAll, Submit, VenueRequest


class OrderClient:
    """Builds requests and passes each to `_send_body`, which subclasses override."""

    def __init__(self, account: str, send: Callable[[VenueRequest], object]) -> None:
        self.account = account
        self._send = send
        self._ids = itertools.count(1)

    def _next_id(self) -> str:
        return f"{self.account}-{next(self._ids)}"

    def _send_body(self, body: VenueRequest) -> None:
        self._send(body)

    def submit(self, symbol: str, request: OrderRequest) -> str:
        """Send an order, giving it a client order id unless it has one; returns the id."""
        if request.client_id is None:
            request = replace(request, client_id=self._next_id())
        assert request.client_id is not None
        self._send_body(Submit(symbol, request))
        return request.client_id

    def limit(
        self,
        symbol: str,
        side: Side,
        qty: int,
        price: int,
        *,
        tif: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        reduce_only: bool = False,
    ) -> str:
        """A limit order (GTX when post_only); returns its client order id."""
        request = OrderRequest(
            account=self.account,
            side=side,
            qty=qty,
            type=OrderType.LIMIT,
            price=price,
            tif=TimeInForce.GTX if post_only else tif,
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

    def stop_market(
        self,
        symbol: str,
        side: Side,
        qty: int,
        stop_price: int,
        *,
        trigger: TriggerSource = TriggerSource.MARK,
        reduce_only: bool = True,
    ) -> str:
        request = OrderRequest(
            account=self.account,
            side=side,
            qty=qty,
            type=OrderType.STOP_MARKET,
            tif=TimeInForce.IOC,
            stop_price=stop_price,
            trigger=trigger,
            reduce_only=reduce_only,
        )
        return self.submit(symbol, request)

    def stop_limit(
        self,
        symbol: str,
        side: Side,
        qty: int,
        stop_price: int,
        price: int,
        *,
        trigger: TriggerSource = TriggerSource.MARK,
        reduce_only: bool = False,
    ) -> str:
        """Rests as a limit at `price` once the trigger price crosses `stop_price`."""
        request = OrderRequest(
            account=self.account,
            side=side,
            qty=qty,
            type=OrderType.STOP_LIMIT,
            price=price,
            stop_price=stop_price,
            trigger=trigger,
            reduce_only=reduce_only,
        )
        return self.submit(symbol, request)

    def cancel(self, symbol: str, client_id: str) -> None:
        self._send_body(Cancel(symbol, self.account, client_id))

    def cancel_all(self, symbol: str) -> None:
        self._send_body(CancelAll(symbol, self.account))

    def amend(
        self, symbol: str, client_id: str, *, qty: int | None = None, price: int | None = None
    ) -> None:
        self._send_body(Amend(symbol, self.account, client_id, qty, price))
