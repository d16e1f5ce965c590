"""The order client: the only way a strategy acts, every request crossing the uplink."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from harness.venue.orders import OrderRequest, OrderType, Side, TimeInForce, TriggerSource
from harness.venue.requests import Amend, Cancel, CancelAll, Submit, VenueRequest


class OrderClient:
    """Builds requests with client order ids (`<agent>-<n>`) and puts them on the order link."""

    def __init__(self, account: str, send: Callable[[VenueRequest], object]) -> None:
        self.account = account
        self._send = send
        self._ids = itertools.count(1)

    def _next_id(self) -> str:
        return f"{self.account}-{next(self._ids)}"

    def _submit(self, symbol: str, request: OrderRequest) -> str:
        self._send(Submit(symbol, request))
        assert request.client_id is not None
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
            client_id=self._next_id(),
        )
        return self._submit(symbol, request)

    def market(self, symbol: str, side: Side, qty: int, *, reduce_only: bool = False) -> str:
        request = OrderRequest(
            account=self.account,
            side=side,
            qty=qty,
            type=OrderType.MARKET,
            tif=TimeInForce.IOC,
            reduce_only=reduce_only,
            client_id=self._next_id(),
        )
        return self._submit(symbol, request)

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
            client_id=self._next_id(),
        )
        return self._submit(symbol, request)

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
            client_id=self._next_id(),
        )
        return self._submit(symbol, request)

    def cancel(self, symbol: str, client_id: str) -> None:
        self._send(Cancel(symbol, self.account, client_id))

    def cancel_all(self, symbol: str) -> None:
        self._send(CancelAll(symbol, self.account))

    def amend(
        self, symbol: str, client_id: str, *, qty: int | None = None, price: int | None = None
    ) -> None:
        self._send(Amend(symbol, self.account, client_id, qty, price))
