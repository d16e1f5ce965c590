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

`build_gateway` turns the scenario's `[gateway]` section and the agents' keys into the parts.
With `throttle = false` (the unthrottled twin of a run) limits are out of reach, nothing tightens,
nothing is refused for overload and nothing times out into an unknown status; the engine queue's
service time, latency and faults stay, so the two runs differ only by the throttling.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Any, Final

import simpy

from harness.config.agents import AgentConfig
from harness.config.gateway import GatewayConfig
from harness.journal import ENGINE_QUEUE, Journal
from harness.sim.clock import SimEnv
from harness.venue.exchange.requests import Amend, Cancel, Submit
from harness.venue.gateway.engine_queue import EngineQueue, QueueSettings
from harness.venue.gateway.gateway import (
    ApiKey,
    ApiRequest,
    Delivered,
    Forward,
    Gateway,
    Response,
    Scope,
    ThrottleRecord,
)
from harness.venue.gateway.rate_limits import Limits, RateLimiter, RateLimitSettings
from harness.venue.gateway.tightening import (
    QueueDepthRule,
    Rule,
    Step,
    TighteningSchedule,
    VolatilityRule,
    scaled,
)
from harness.venue.gateway.ws_limit import ConnectionLimit
from harness.venue.venue import Venue

QUEUE_SAMPLE_NS: Final = 1_000_000_000
"""How often the engine queues' depth is looked at for the journal: 1 s, the mark cadence."""

UNREACHABLE: Final = Limits(10**15, 10**15, 10**15)
"""The limits of an unthrottled run: no request count of a simulated day comes near."""

AnswerSink = Callable[[Response], object]


def agent_ip(config: AgentConfig, position: int) -> str:
    """The agent's source IP: its own setting, else 10.0.0.<position + 1> (one IP per agent)."""
    return config.ip or f"10.0.{position // 250}.{position % 250 + 1}"


def agent_connection(config: AgentConfig) -> str:
    """The agent's websocket connection id, or "" when it trades over REST."""
    return f"ws:{config.name}" if config.transport == "websocket" else ""


def ws_pace_ns(config: GatewayConfig) -> int:
    """Spacing a careful client keeps between messages on a websocket connection: one message
    fewer a second than the limit, so latency jitter cannot squeeze one too many into a second."""
    return -(-1_000_000_000 // max(1, config.ws_messages_per_s - 1))


def agent_key(config: AgentConfig) -> ApiKey:
    ips = config.allowed_ips
    return ApiKey(f"key-{config.name}", config.name, tuple(Scope(s) for s in config.scopes), ips)


def _limits(config: GatewayConfig) -> Limits:
    return Limits(config.weight_1m, config.orders_10s, config.orders_1m)


def tightening_schedule(
    config: GatewayConfig, record: Callable[[ThrottleRecord], object]
) -> TighteningSchedule | None:
    """The scenario's steps and rules, or None when there are none (the limits never change)."""
    if not config.tightening and not config.rules:
        return None
    base = _limits(config)
    steps = []
    for entry in config.tightening:
        factor = Fraction(entry.factor)
        step_base = Limits(
            entry.weight_1m or base.weight_1m,
            entry.orders_10s or base.orders_10s,
            entry.orders_1m or base.orders_1m,
        )
        steps.append(Step(entry.at, scaled(step_base, factor)))
    rules: list[Rule] = []
    for rule in config.rules:
        if rule.on == "volatility":
            rules.append(
                VolatilityRule(rule.window_ns, Fraction(rule.threshold), Fraction(rule.factor))
            )
        else:
            rules.append(QueueDepthRule(int(rule.threshold), Fraction(rule.factor)))
    return TighteningSchedule(base, steps, rules, record)


def queue_settings(config: GatewayConfig, symbol: str) -> QueueSettings:
    """The symbol's engine queue: `[gateway.queues.<symbol>]` over `[gateway]`."""
    own = config.queues.get(symbol)
    rate = config.service_rate_per_s
    depth = config.overload_depth
    if own is not None:
        rate = own.service_rate_per_s or rate
        depth = depth if own.overload_depth is None else own.overload_depth
    throttle = config.throttle
    return QueueSettings(
        service_rate_per_s=rate,
        overload_depth=(depth or None) if throttle else None,
        exits_pass_overload=config.exits_pass_overload,
        timeout_ns=config.timeout_ns,
        unknown_share=Fraction(config.unknown_share) if throttle else Fraction(0),
        unknown_executes=Fraction(config.unknown_executes),
    )


@dataclass(frozen=True, slots=True)
class GatewayParts:
    gateway: Gateway
    schedule: TighteningSchedule | None


def build_gateway(
    config: GatewayConfig,
    agents: Sequence[AgentConfig],
    symbols: Sequence[str],
    env: SimEnv,
    record: Callable[[ThrottleRecord], object],
) -> GatewayParts:
    throttle = config.throttle
    limiter = RateLimiter(
        RateLimitSettings(
            limits=_limits(config) if throttle else UNREACHABLE,
            sliding=config.window == "sliding",
            strikes_before_ban=config.strikes_before_ban,
            strike_grace_ns=config.strike_grace_ns,
            ban_base_ns=config.ban_base_ns,
            ban_cap_ns=config.ban_cap_ns,
        )
    )
    queues = {
        symbol: EngineQueue(
            symbol, queue_settings(config, symbol), env.streams.get(f"engine_queue:{symbol}")
        )
        for symbol in symbols
    }
    schedule = tightening_schedule(config, record) if throttle else None
    ws_limit = (
        ConnectionLimit(
            config.ws_messages_per_s,
            config.ws_reconnect_ns,
            closes_before_ban=config.ws_closes_before_ban,
            close_window_ns=config.ws_close_window_ns,
        )
        if throttle
        else None
    )
    keys = [agent_key(agent) for agent in agents]
    gateway = Gateway(keys, limiter, queues, limits=schedule, record=record, ws_limit=ws_limit)
    return GatewayParts(gateway, schedule)


class GatewayRuntime:
    """Schedules the gateway's outcomes on the clock; see the module docstring."""

    def __init__(
        self,
        env: SimEnv,
        venue: Venue,
        journal: Journal,
        config: GatewayConfig,
        agents: Sequence[AgentConfig],
    ) -> None:
        self.env = env
        self.venue = venue
        self.journal = journal
        self.config = config
        parts = build_gateway(config, agents, list(venue.markets), env, self._journal)
        self.gateway = parts.gateway
        self.schedule = parts.schedule
        self._answers: dict[str, AnswerSink] = {}

    def _journal(self, record: ThrottleRecord) -> None:
        self.journal.append(record.ts, record.kind, record.account, record.symbol, **record.fields)

    def connect(self, account: str, answers: AnswerSink) -> None:
        """Where the answers for `account` go: its response link's `send`."""
        self._answers[account] = answers

    def start(self, end: int) -> None:
        """Timers for the tightening steps inside the run, the volatility rules' marks and the
        queue depth samples (a throttled run only)."""
        if self.config.throttle:
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
