"""Network faults on a schedule (`[[gateway.faults]]`), applied to one agent's links.

- `latency`: extra delay on a link while the fault lasts: a `Window` of the link's model;
- `loss`: a share of the messages on a link lost and retransmitted later (`Lossy`), order kept;
- `disconnect`: the market-data link is down; the agent runtime drops what would arrive, tells
  the strategy its book is stale, and republishes the whole book when the link is back.

Faults with no `agents` list hit every agent. `harness.assembly` reads them from the scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from harness.sim.latency import (
    LatencyModel,
    LinkLatencies,
    Loss,
    Lossy,
    Scheduled,
    Window,
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One scheduled fault on the links of `agents` (every agent when empty)."""

    kind: str
    """latency, loss or disconnect."""
    start: int
    end: int
    """Exclusive."""
    link: str
    """market_data, orders or responses (latency and loss)."""
    add_ns: int
    loss: Fraction
    """Share of the messages lost."""
    retransmit_ns: int
    agents: tuple[str, ...]


def _hits(fault: Fault, agent: str) -> bool:
    return not fault.agents or agent in fault.agents


def _with_faults(model: LatencyModel, faults: Sequence[Fault]) -> LatencyModel:
    windows = tuple(
        Window(f.start, f.end, f.add_ns) for f in faults if f.kind == "latency" and f.add_ns
    )
    losses = tuple(
        Loss(f.start, f.end, f.loss, f.retransmit_ns) for f in faults if f.kind == "loss" and f.loss
    )
    if windows:
        if isinstance(model, Lossy):
            raise ValueError("a link's model is already lossy")
        if isinstance(model, Scheduled):
            model = Scheduled(model.base, model.windows + windows)
        else:
            model = Scheduled(model, windows)
    if losses:
        assert not isinstance(model, Lossy)
        model = Lossy(model, losses)
    return model


def faulty_links(latencies: LinkLatencies, faults: Sequence[Fault], agent: str) -> LinkLatencies:
    """The agent's link models with the latency and loss faults that hit it."""
    own = [f for f in faults if _hits(f, agent)]
    if not own:
        return latencies
    return LinkLatencies(
        market_data=_with_faults(
            latencies.market_data, [f for f in own if f.link == "market_data"]
        ),
        orders=_with_faults(latencies.orders, [f for f in own if f.link == "orders"]),
        responses=_with_faults(latencies.responses, [f for f in own if f.link == "responses"]),
    )


def disconnects(faults: Sequence[Fault], agent: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of the market-data disconnects of `agent`, in time order."""
    return tuple(
        sorted((f.start, f.end) for f in faults if f.kind == "disconnect" and _hits(f, agent))
    )
