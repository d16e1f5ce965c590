"""Loss faults on a link: lost messages come a retransmit later, and nothing overtakes them."""

from __future__ import annotations

from fractions import Fraction

from harness.sim.clock import NS_PER_MS, SimEnv
from harness.sim.latency import Constant, Link, Loss, Lossy

T0 = 1_723_161_600_000_000_000


def _arrivals(model: Constant | Lossy) -> list[tuple[int, int]]:
    env = SimEnv(T0, seed=5)
    got: list[tuple[int, int]] = []
    link: Link[int] = Link(env, "a/orders", model, lambda m: got.append((env.now - T0, m)))
    for i in range(6):
        env.call_at(T0 + i * NS_PER_MS, lambda i=i: link.send(i))  # type: ignore[misc]
    env.run()
    return got


def test_every_message_lost_once_arrives_one_retransmit_later() -> None:
    loss = Loss(T0 + 2 * NS_PER_MS, T0 + 4 * NS_PER_MS, Fraction(1), 200 * NS_PER_MS)
    got = _arrivals(Lossy(Constant(NS_PER_MS), (loss,)))
    ms = NS_PER_MS
    # Messages 2 and 3 (sent inside the window) are lost once; 4 and 5 wait behind them (FIFO).
    assert got == [(ms, 0), (2 * ms, 1), (203 * ms, 2), (204 * ms, 3), (204 * ms, 4), (204 * ms, 5)]


def test_partial_loss_is_seeded_and_keeps_order() -> None:
    loss = Loss(T0, T0 + 10 * NS_PER_MS, Fraction(1, 2), 200 * NS_PER_MS)
    first = _arrivals(Lossy(Constant(NS_PER_MS), (loss,)))
    assert first == _arrivals(Lossy(Constant(NS_PER_MS), (loss,)))
    assert [m for _, m in first] == list(range(6))
    assert [t for t, _ in first] == sorted(t for t, _ in first)
    assert any(t >= 200 * NS_PER_MS for t, _ in first)
    # Without the loss the base delays are unchanged: the loss draws use their own stream.
    assert _arrivals(Constant(NS_PER_MS))[0] == (NS_PER_MS, 0)
