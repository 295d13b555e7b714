"""Sending the outbox: each due message claimed by one dispatcher, sent once, recorded at once.

Several dispatchers may run together (several `flask scheduler run` processes). A claim marks a
batch of due messages `sending` with a lease, atomically: `FOR UPDATE SKIP LOCKED` on
PostgreSQL; on SQLite every transaction holds the write lock from its BEGIN. A dispatcher killed
mid-batch leaves its claims, which others take over once the lease has run out.

Each batch is checked against its bookings in one read (moved, cancelled, concluded, no consent,
opted out, quiet hours). With Twilio or Notify a few sender threads then send it, each
message by one thread: the time goes in waiting for the provider's answers, and they can overlap.
Texts to the same booking still go one after the other, in the order they fell due.
The next batch is claimed while the end of this one is still being sent.

Just before a message goes, its sender makes sure the claim still holds it for longer than a
send can take (the client gives up after 10 s). A claim younger than FRESH does: its lease has
nearly all of its two minutes left, so no other dispatcher may claim the message yet, and its
booking was read a moment ago. An older claim (a slow batch) is checked again in the database
first, as before: the booking re-read, and the lease renewed only if it is still this
dispatcher's claim (the lease value is the claim's token); if not, the message is left alone.
So two dispatchers are never sending the same message.

The provider's id is stored the moment it answers, and a message holding one is never sent
again. The dispatcher's own thread stores the answers while its senders wait on the provider;
answers that arrived together share one commit, so an answer waits at most for the commit in
progress and its own. A dispatcher stopped half-way (Ctrl-C, an error) sends nothing more and
stores what the provider has already answered.

The one window that no design closes: a dispatcher killed after the provider accepted a message but
before its id was committed. After the lease that message is sent a second time. The window is
one HTTP answer and a commit or two long, per message, as with one message at a time; only now
up to SENDERS messages can be in it at once. Notify narrows it: each message goes with its own
id as Notify's `reference`, and a delivery receipt naming a message with no stored id stores
Notify's (receipts.py), so one that comes before the next claim stops the second send.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import joinedload, load_only

from .. import settings
from ..extensions import db
from ..models import Booking, BookingStatus, Message, MessageKind, MessageStatus, OptOut
from ..monitoring import metrics
from . import outbox, texts
from .backends import SendFailed, backend_for
from .reminders import ReminderPolicy

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
# How long a claim (and the booking read with it) is trusted without asking the database again.
FRESH = dt.timedelta(seconds=5)
BATCH = 100
# Messages in flight at once, for a backend that may be called from several threads.
SENDERS = 8
REMINDERS = (MessageKind.DAY_BEFORE, MessageKind.SAME_DAY)
FOR_A_LIVE_APPOINTMENT = (MessageKind.CONFIRMATION, MessageKind.CHANGED, *REMINDERS)
RETRYING = "retrying"
GONE = "gone"


@dataclass
class DispatchReport:
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0
    retrying: int = 0
    failed: int = 0
    claimed: list[int] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        if outcome == MessageStatus.SENT:
            self.sent += 1
        elif outcome == MessageStatus.SKIPPED:
            self.skipped += 1
        elif outcome == MessageStatus.CANCELLED:
            self.cancelled += 1
        elif outcome == RETRYING:
            self.retrying += 1
        elif outcome == MessageStatus.FAILED:
            self.failed += 1
        else:
            return  # gone: another dispatcher has it
        metrics.sms_message(outcome)


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, checked against its booking, ready to go."""

    message_id: int
    booking_id: int
    to: str
    body: str
    attempts: int
    lease_until: dt.datetime  # the claim's lease, its token
    claimed_at: dt.datetime  # its booking was read after this


@dataclass(frozen=True)
class Answer:
    """What came of one send: the provider's id, a failure, or an outcome already stored."""

    at: dt.datetime
    provider_id: str | None = None
    failure: SendFailed | None = None
    outcome: str | None = None


def due_now(now: dt.datetime) -> tuple:
    """The messages a dispatcher may claim now: those whose claim ran out (their dispatcher
    died or stalled), and the pending ones that are due."""
    return (
        # `due_at <= now` holds for every claimed message; it steers SQLite to the status
        # index rather than to the unique index of `provider_id IS NULL` (a million rows).
        and_(
            Message.status == MessageStatus.SENDING,
            Message.due_at <= now,
            Message.lease_until < now,
        ),
        and_(Message.status == MessageStatus.PENDING, Message.due_at <= now),
    )


def oldest_due_at(now: dt.datetime) -> dt.datetime | None:
    """When the message that has waited longest for a dispatcher fell due; None if none has.

    One step down the status index for each kind of due message, however long the backlog.
    """
    earliest = [
        db.session.scalar(select(func.min(Message.due_at)).where(due)) for due in due_now(now)
    ]
    return min((at for at in earliest if at is not None), default=None)


def claim(now: dt.datetime, limit: int = BATCH, lease: dt.timedelta = LEASE) -> list[int]:
    """Claim up to `limit` due messages for this dispatcher; their ids.

    First the messages whose claim ran out (their dispatcher died or stalled), then the
    pending ones, earliest due first. Two statements, each an ordered walk of the status index
    that stops at `limit`: one condition with an OR would sort every due message each time.
    """
    claimed: list[int] = []
    for due in due_now(now):
        if len(claimed) < limit:
            claimed += _claim_where(due, now, limit - len(claimed), lease)
    db.session.commit()
    return sorted(claimed)


def _claim_where(due, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[int]:
    candidates = (
        select(Message.id)
        .where(due, Message.provider_id.is_(None))
        .order_by(Message.due_at)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # (SQLite's transactions take its write lock at BEGIN: no other claim runs in between.)
    # A CTE, so that PostgreSQL picks the candidates once: a subquery the planner chose to
    # run again per row would skip the rows this very statement locked, and claim more.
    claimable = candidates.cte("claimable")
    return db.session.scalars(
        update(Message)
        .where(Message.id.in_(select(claimable.c.id)))
        .values(
            status=MessageStatus.SENDING, lease_until=now + lease, attempts=Message.attempts + 1
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ).all()


def _stale(message: Message, booking: Booking, now: dt.datetime) -> str | None:
    """Why a message no longer fits its booking (moved, cancelled, concluded), if it doesn't."""
    if message.kind in FOR_A_LIVE_APPOINTMENT:
        if booking.status == BookingStatus.CANCELLED:
            return "The appointment was cancelled"
        if booking.status != BookingStatus.BOOKED:
            return "The appointment is over: its outcome is recorded"
        if booking.starts_at != message.appointment_at:
            return "The appointment was moved"
        if message.kind in REMINDERS and now >= booking.starts_at:
            return "The appointment has already started"
    elif message.kind == MessageKind.CANCELLED and booking.status != BookingStatus.CANCELLED:
        return "The appointment is no longer cancelled"
    return None


def _held_back(
    message: Message,
    now: dt.datetime,
    policy: ReminderPolicy,
    opt_out_on_record: bool = True,
) -> str | None:
    """Stop a message that must not go now (stale, not allowed, quiet hours); its new status.

    `opt_out_on_record` False says the number has no opt-out row, which spares a query.
    """
    booking = message.booking
    stale = _stale(message, booking, now)
    reason = None
    if not stale and (opt_out_on_record or not (booking.mobile and booking.sms_consent)):
        reason = outbox.skip_reason(booking)
    if not stale and not reason and message.kind in REMINDERS and policy.is_quiet(now):
        reason = "The reminder's time passed while no texts could be sent"
    if not stale and not reason:
        return None
    message.status = MessageStatus.CANCELLED if stale else MessageStatus.SKIPPED
    message.skip_reason = stale or reason
    message.lease_until = None
    message.status_at = now
    return message.status


def _is_claimed(message: Message | None, lease_until: dt.datetime | None) -> bool:
    return (
        message is not None
        and message.status == MessageStatus.SENDING
        and not message.provider_id
        and (lease_until is None or message.lease_until == lease_until)
    )


def _outgoing(message: Message, claimed_at: dt.datetime) -> Outgoing:
    return Outgoing(
        message.id,
        message.booking_id,
        message.booking.mobile,
        texts.render(message.kind, message.booking, claimed_at, phone=settings.service_phone()),
        message.attempts,
        message.lease_until,
        claimed_at,
    )


# Only the columns the checks and the texts read (loading whole bookings costs more than the
# rest of the check); anything else would be loaded on first use.
WHAT_THE_CHECKS_READ = (
    load_only(
        Message.booking_id,
        Message.kind,
        Message.status,
        Message.appointment_at,
        Message.attempts,
        Message.lease_until,
        Message.provider_id,
    ),
    joinedload(Message.booking)
    .load_only(
        Booking.reference,
        Booking.status,
        Booking.block_id,
        Booking.starts_at,
        Booking.mobile,
        Booking.sms_consent,
    )
    .joinedload(Booking.block),
)


def _check_batch(
    ids: list[int], claimed_at: dt.datetime, now: dt.datetime, policy: ReminderPolicy, report
) -> list[Outgoing]:
    """Read the claimed messages with their bookings at once; stop those that may not go."""
    messages = db.session.scalars(
        select(Message)
        .where(Message.id.in_(ids))
        .options(*WHAT_THE_CHECKS_READ)
        .order_by(Message.due_at, Message.id)
    ).all()
    mobiles = {m.booking.mobile for m in messages if m.booking.mobile}
    on_record = set(db.session.scalars(select(OptOut.mobile).where(OptOut.mobile.in_(mobiles))))
    outgoing = []
    for message in messages:
        if not _is_claimed(message, claimed_at + LEASE):
            continue
        try:
            stopped = _held_back(message, now, policy, message.booking.mobile in on_record)
            if not stopped:
                outgoing.append(_outgoing(message, claimed_at))
        except Exception:  # one bad message must not stop the others; its lease runs out
            log.exception("sms.dispatch_error", extra={"message_id": message.id})
            continue
        if stopped:
            report.count(stopped)
    db.session.commit()  # hold no transaction (nor SQLite's write lock) while the provider answers
    return outgoing


def _status_callback(config) -> str:
    return f"{config['PUBLIC_BASE_URL']}/sms/status"


def _call(backend, item: Outgoing, now: dt.datetime, callback: str) -> Answer:
    try:
        provider_id = backend.send(item.to, item.body, callback, reference=str(item.message_id))
        return Answer(now, provider_id=provider_id)
    except SendFailed as failure:
        return Answer(now, failure=failure)


def _set(message_id: int, **values) -> bool:
    """Store a message's new state, unless a delivery receipt came first and stored the
    provider's id (see receipts.py): whether it was stored."""
    stored = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.provider_id.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return stored.rowcount == 1


# Core, not the ORM's bulk update: the same statement with less work per row. A message that
# already holds an id got it from a delivery receipt that came first (see receipts.py).
RECORD_SENT = (
    update(Message.__table__)
    .where(
        Message.__table__.c.id == bindparam("message_id"),
        Message.__table__.c.provider_id.is_(None),
    )
    .values(
        status=MessageStatus.SENT,
        provider_id=bindparam("sid"),
        sent_at=bindparam("at"),
        status_at=bindparam("at"),
        lease_until=None,
        error_code=None,
    )
)


def _store(answered: list[tuple[Outgoing, Answer]]) -> list[str]:
    """Stage what the provider answered (the caller commits); each message's new status."""
    sent = [
        {"message_id": item.message_id, "sid": answer.provider_id, "at": answer.at}
        for item, answer in answered
        if answer.outcome is None and answer.failure is None
    ]
    if sent:
        db.session.execute(RECORD_SENT, sent)  # one statement, all the rows in one round trip
    return [
        answer.outcome
        or (MessageStatus.SENT if answer.failure is None else _store_failure(item, answer))
        for item, answer in answered
    ]


def _store_failure(item: Outgoing, answer: Answer) -> str:
    now, failure, config = answer.at, answer.failure, current_app.config
    # A failure answer for a text a receipt has shown was accepted after all (an answer lost
    # on an earlier attempt) changes nothing: the receipt's word stands, and nothing is counted.
    if failure.opted_out:
        outbox.set_opt_out(item.to, True, now)
        skipped = _set(
            item.message_id,
            status=MessageStatus.SKIPPED,
            skip_reason=outbox.OPTED_OUT,
            error_code=failure.code,
            lease_until=None,
            status_at=now,
        )
        return MessageStatus.SKIPPED if skipped else GONE

    if failure.transient and item.attempts < config["SMS_MAX_ATTEMPTS"]:
        delay = dt.timedelta(seconds=config["SMS_RETRY_BASE_SECONDS"] * 2 ** (item.attempts - 1))
        if not _set(
            item.message_id,
            status=MessageStatus.PENDING,
            due_at=now + delay,
            lease_until=None,
            error_code=failure.code,
        ):
            return GONE
        log.warning("sms.retry", extra={"message_id": item.message_id, "attempts": item.attempts})
        return RETRYING

    if not _set(
        item.message_id,
        status=MessageStatus.FAILED,
        skip_reason=outbox.NOT_DELIVERED,
        error_code=failure.code,
        lease_until=None,
        status_at=now,
    ):
        return GONE
    log.warning("sms.failed", extra={"message_id": item.message_id, "code": failure.code})
    return MessageStatus.FAILED


def send_one(
    message_id: int,
    backend,
    now: dt.datetime,
    policy: ReminderPolicy,
    lease_until: dt.datetime | None = None,
) -> str:
    """Check one claimed message afresh, renew its lease, send it; the status it ends in.

    `lease_until` is the lease this dispatcher's claim set: if the message now holds another,
    the lease ran out and another dispatcher has claimed it since, so it is left to them.
    """
    message = db.session.get(Message, message_id)
    if not _is_claimed(message, lease_until):
        db.session.rollback()
        return GONE
    stopped = _held_back(message, now, policy)  # the booking re-read, not trusted from before
    if stopped:
        db.session.commit()
        return stopped

    item = _outgoing(message, now)
    # Renew the lease for the time the provider takes, if it is still ours: a batch may outlast the
    # lease it was claimed with, and another dispatcher may then have claimed this message.
    renewed = db.session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == MessageStatus.SENDING,
            Message.lease_until == item.lease_until,
            Message.provider_id.is_(None),
        )
        .values(lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # hold no transaction (nor SQLite's write lock) while the provider answers
    if renewed.rowcount != 1:
        return GONE

    answer = _call(backend, item, now, _status_callback(current_app.config))
    (outcome,) = _store([(item, answer)])
    db.session.commit()
    return outcome


def _store_answers(answered: list[tuple[Outgoing, Answer]], report) -> None:
    """Store the answers in one commit; if that fails, each on its own."""
    try:
        outcomes = _store(answered)
        db.session.commit()
    except Exception:
        db.session.rollback()
        if len(answered) > 1:
            for one in answered:
                _store_answers([one], report)
            return
        # Left to its lease, like a message whose dispatcher died here.
        log.exception("sms.dispatch_error", extra={"message_id": answered[0][0].message_id})
        return
    for outcome in outcomes:
        report.count(outcome)


def dispatch(
    now_fn: Callable[[], dt.datetime],
    backend=None,
    limit: int = BATCH,
    senders: int | None = None,
) -> DispatchReport:
    """One pass: claim and send batches until nothing is due.

    Several messages are in flight at once only with a backend that may be called from several
    threads (`concurrent`); otherwise one at a time, each stored before the next goes.
    """
    app = current_app._get_current_object()
    backend = backend or backend_for(app)
    senders = senders or (SENDERS if getattr(backend, "concurrent", False) else 1)
    policy = ReminderPolicy.from_config(app.config)
    callback = _status_callback(app.config)
    report = DispatchReport()

    def batches() -> Iterator[list[Outgoing]]:
        while True:
            claimed_at = now_fn()
            ids = claim(claimed_at, limit)
            if not ids:
                return
            report.claimed.extend(ids)
            yield _check_batch(ids, claimed_at, now_fn(), policy, report)

    def send(item: Outgoing) -> Answer:
        now = now_fn()
        try:
            if now < item.claimed_at + FRESH:
                return _call(backend, item, now, callback)
            # An old claim: check the message again and renew its lease first, in the database.
            with app.app_context():
                outcome = send_one(item.message_id, backend, now, policy, item.lease_until)
            return Answer(now, outcome=outcome)
        except Exception:  # one bad message must not stop the others; its lease runs out
            log.exception("sms.dispatch_error", extra={"message_id": item.message_id})
            return Answer(now, outcome=GONE)

    if senders == 1:
        for batch in batches():
            for item in batch:
                _store_answers([(item, send(item))], report)
        return report

    def send_after(earlier: Future | None, item: Outgoing) -> Answer:
        if earlier is not None:
            wait([earlier])  # texts to one person go in the order they were due
        return send(item)

    upcoming = batches()
    in_flight: dict[Future, Outgoing] = {}
    with ThreadPoolExecutor(senders, thread_name_prefix="sms-sender") as pool:
        try:
            while upcoming or in_flight:
                # Claim the next batch while the end of this one is still being sent.
                if upcoming and len(in_flight) <= limit // 2:
                    batch = next(upcoming, None)
                    if batch is None:
                        upcoming = None
                    last_to: dict[int, Future] = {}  # per booking
                    for item in batch or []:
                        future = pool.submit(send_after, last_to.get(item.booking_id), item)
                        in_flight[future], last_to[item.booking_id] = item, future
                    continue
                # Answers that came in together are stored in one commit.
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                _store_answers([(in_flight[f], f.result()) for f in done], report)
                for future in done:
                    del in_flight[future]
        finally:
            # Stopped half-way (Ctrl-C, an error): what has not gone is left to its lease, and
            # what the provider has answered is stored, so that it never goes twice.
            for future in in_flight:
                future.cancel()
            wait(in_flight)
            answered = [
                (item, f.result())
                for f, item in in_flight.items()
                if not f.cancelled() and f.exception() is None
            ]
            if answered:
                db.session.rollback()
                _store_answers(answered, report)
    return report
