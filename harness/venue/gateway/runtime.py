"""The gateway on the clock: agent requests in from their uplinks, venue calls and answers out.

`Gateway.on_request` decides a request and returns outcomes with times; this module schedules
them. A `Forward` reaches the venue at its engine queue completion time, preceded on the agent's
response link by a `Delivered` (status 200 with the used-limit counters and the queue delay); a
`Respond` (a reject or a query result) goes down the response link at its time. Both are
scheduled with `call_at` and only then put on the link, because a link never lets a message
overtake an earlier one: sending a far-future answer first would hold back everything after it.

Every gateway reject and every change of the limits in force is journaled, stamped with the
decision time. Each symbol's engine queue depth is sampled every `QUEUE_SAMPLE_NS` and journaled
(`engine_queue`, field `depth`) when it differs from the last journaled sample (0 at first), so
the report can chart queue depth while a quiet run's journal stays as it was; only a throttled
run samples (the unthrottled twin's journal is never written out).

Fixed tightening steps are also asked for at their own instant, so a step shows in the journal
when it happens, not when the next request comes; volatility rules read the venue's marks on the
mark interval and are re-evaluated right after each.

`harness.assembly` builds the gateway and its schedule from the scenario's `[gateway]` section.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from functools import partial
from typing import Any, Final

import simpy

from harness.journal import ENGINE_QUEUE, Journal
from harness.sim.clock import SimEnv
from harness.units import NS_PER_S
from harness.venue.exchange.requests import Amend, Cancel, Submit
from harness.venue.gateway.gateway import (
    ApiRequest,
    Delivered,
    Forward,
    Gateway,
    Response,
    ThrottleRecord,
)
from harness.venue.gateway.tightening import TighteningSchedule, VolatilityRule
from harness.venue.venue import Venue

QUEUE_SAMPLE_NS: Final = NS_PER_S
"""How often the engine queues' depth is looked at for the journal: 1 s, the mark cadence."""

AnswerSink = Callable[[Response], object]


def throttle_journal(journal: Journal) -> Callable[[ThrottleRecord], None]:
    """Where the gateway and its tightening schedule send their records: the run's journal."""

    def append(record: ThrottleRecord) -> None:
        journal.append(record.ts, record.kind, record.account, record.symbol, **record.fields)

    return append


class GatewayRuntime:
    """Schedules the gateway's outcomes on the clock; see the module docstring."""

    def __init__(
        self,
        env: SimEnv,
        venue: Venue,
        journal: Journal,
        gateway: Gateway,
        schedule: TighteningSchedule | None,
        *,
        throttled: bool,
    ) -> None:
        """`gateway` and `schedule` journal through `throttle_journal(journal)`; only a
        `throttled` run samples its queue depths."""
        self.env = env
        self.venue = venue
        self.journal = journal
        self.gateway = gateway
        self.schedule = schedule
        self.throttled = throttled
        self._answers: dict[str, AnswerSink] = {}

    def connect(self, account: str, answers: AnswerSink) -> None:
        """Where the answers for `account` go: its response link's `send`."""
        self._answers[account] = answers

    def start(self, end: int) -> None:
        """Timers for the tightening steps inside the run, the volatility rules' marks and the
        queue depth samples (a throttled run only)."""
        if self.throttled:
            self.env.process(self._sample_queues(end))
        schedule = self.schedule
        if schedule is None:
            return
        now = self.env.now
        for step in schedule.steps:
            if now <= step.at_ns < end:
                self.env.call_at(step.at_ns, partial(self._limits_at, step.at_ns))
        if any(isinstance(rule, VolatilityRule) for rule in schedule.rules):
            self.env.process(self._watch_marks(schedule, end))

    def _sample_queues(self, end: int) -> Generator[simpy.Event, Any, None]:
        env = self.env
        journaled = dict.fromkeys(self.gateway.queues, 0)
        while env.now + QUEUE_SAMPLE_NS < end:
            yield env.timeout(QUEUE_SAMPLE_NS)
            now = env.now
            for symbol, queue in self.gateway.queues.items():
                depth = queue.depth(now)
                if depth != journaled[symbol]:
                    journaled[symbol] = depth
                    self.journal.append(now, ENGINE_QUEUE, "", symbol, depth=depth)

    def _limits_at(self, at: int) -> None:
        assert self.schedule is not None
        self.schedule.limits(at)

    def _watch_marks(
        self, schedule: TighteningSchedule, end: int
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        interval = self.venue.settings.mark_interval_ns
        while env.now + interval < end:
            yield env.timeout(interval)
            now = env.now
            for symbol, mark in self.venue.marks.items():
                schedule.observe_mark(symbol, mark, now)
            schedule.limits(now)

    # --- requests -------------------------------------------------------------------------------
    def on_request(self, request: ApiRequest) -> None:
        """The receiver of every agent's order link."""
        env = self.env
        for outcome in self.gateway.on_request(request, env.now):
            if isinstance(outcome, Forward):
                env.call_at(outcome.at, partial(self._deliver, outcome))
            else:
                env.call_at(outcome.at, partial(self._answer, outcome.response))

    def _answer(self, response: Response) -> None:
        answers = self._answers.get(response.account)
        if answers is not None:
            answers(response)

    def _deliver(self, forward: Forward) -> None:
        message = forward.message
        account = message.request.account if isinstance(message, Submit) else message.account
        client_id = ""
        if isinstance(message, Submit):
            client_id = message.request.client_id or ""
        elif isinstance(message, Cancel | Amend):
            client_id = message.client_id
        self._answer(
            Delivered(
                self.env.now,
                forward.request_id,
                account,
                message.symbol,
                client_id,
                forward.usage,
                forward.queue_delay_ns,
            )
        )
        self.venue.on_request(message)
