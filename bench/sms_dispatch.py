"""10,000 due messages sent to a stand-in Twilio on loopback, by one and by two dispatchers.

    python bench/sms_dispatch.py --db postgres [--messages 10000] [--max-seconds 150]

The stand-in is tests/sms/twilio_standin.py (the tests' own), run in a process of its own on
127.0.0.1; it records every request it is sent. For each run the script queues one pending
`confirmation` message, due now, for each of N distinct live bookings (with a mobile and
consent), then starts the dispatchers: processes, each with its own app (SMS_BACKEND=twilio,
TWILIO_API_BASE_URL at the stand-in) running booking.sms.dispatch.dispatch, one pass, until
nothing is due. Reports messages per second and duplicates counted at the stand-in: a
message whose text (unique: it holds the booking reference) arrived more than once, and any
accepted request whose sid is not the provider id of one of the messages. Must be 0.

Floor: a bare loop of the twilio client (the same TwilioHttpClient the service uses) sending
the same N texts to the same stand-in, in one process and in two. Goal: >= 0.8x the floor.

Before each run, messages of the data set that have come due since it was made (reminders
of upcoming bookings) are sent first by a console-backend pass, as the scheduler would have,
so that the run holds only the N messages. The queued messages are deleted afterwards.

Each process's CPU seconds are kept beside its wall time in the results (on a shared machine
the CPU per message is steadier than the rate). `--profile` profiles each dispatcher's own
thread (claims, checks, storing answers; not its sender threads) into the profiles folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing as mp
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

common.fix_sys_path()

MIN_RUNS = 3

GOAL_RATIO = 0.8


# The stand-in Twilio, in its own process -------------------------------------------------


def standin_main(conn) -> None:
    from tests.sms.twilio_standin import TwilioStandIn

    standin = TwilioStandIn().start()
    conn.send((standin.url, standin.account_sid, standin.auth_token))
    while True:
        command = conn.recv()
        if command == "report":
            conn.send([(r.form.get("To"), r.body, r.sid, r.answered) for r in standin.requests])
        elif command == "reset":
            with standin._lock:
                standin._received.clear()
            conn.send("ok")
        elif command == "stop":
            standin.stop()
            conn.send([repr(e) for e in standin.errors])
            return


class StandIn:
    def __init__(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=standin_main, args=(child,), daemon=True)

    def __enter__(self):
        self.process.start()
        self.url, self.account_sid, self.auth_token = self.conn.recv()
        return self

    def ask(self, command: str):
        self.conn.send(command)
        return self.conn.recv()

    def __exit__(self, *exc):
        errors = self.ask("stop") if self.process.is_alive() else []
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
        if errors:
            print("stand-in errors:", errors)


# Dispatchers and the floor, each in a process of its own ----------------------------------


def dispatcher_main(url: str, twilio_env: dict, profile_as: str | None, ready, go, results) -> None:
    logging.disable(logging.WARNING)  # the service logs each send at INFO
    app = common.make_app(url, SMS_BACKEND="twilio", **twilio_env)
    from booking.extensions import db
    from booking.sms.dispatch import dispatch

    with app.app_context():
        from sqlalchemy import text

        db.session.execute(text("SELECT 1"))  # connected before the clock starts
        db.session.rollback()
        ready.wait()
        go.wait()
        t0, cpu0 = time.perf_counter(), time.process_time()
        with common.maybe_profile(profile_as is not None, profile_as or ""):
            report = dispatch(lambda: dt.datetime.now(dt.UTC))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        results.put(
            {
                "sent": report.sent,
                "claimed": len(report.claimed),
                "seconds": elapsed,
                "cpu_seconds": round(cpu, 2),
                "skipped": report.skipped,
                "failed": report.failed,
                "retrying": report.retrying,
                "cancelled": report.cancelled,
            }
        )


def floor_main(
    texts: list[tuple[str, str]], twilio_env: dict, callback: str, ready, go, results
) -> None:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(
        twilio_env["TWILIO_ACCOUNT_SID"],
        twilio_env["TWILIO_AUTH_TOKEN"],
        http_client=TwilioHttpClient(timeout=10),
    )
    client.api.base_url = twilio_env["TWILIO_API_BASE_URL"]
    ready.wait()
    go.wait()
    t0, cpu0 = time.perf_counter(), time.process_time()
    for to, body in texts:
        client.messages.create(
            to=to, from_=twilio_env["TWILIO_FROM_NUMBER"], body=body, status_callback=callback
        )
    results.put(
        {
            "sent": len(texts),
            "seconds": time.perf_counter() - t0,
            "cpu_seconds": round(time.process_time() - cpu0, 2),
        }
    )


def run_processes(targets, max_seconds: float, on_time_up=None) -> tuple[float, list[dict], bool]:
    """Start the processes, let them go together; (wall seconds, their results, finished).

    When `max_seconds` have passed, `on_time_up` (if given) stops the work gently (the
    messages not yet claimed are withdrawn), so the processes end by themselves after the
    batch in hand; only a process still running a minute later is terminated."""
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(len(targets) + 1)
    go = ctx.Event()
    results = ctx.Queue()
    processes = [
        ctx.Process(target=target, args=(*args, ready, go, results)) for target, args in targets
    ]
    for p in processes:
        p.start()
    ready.wait(timeout=120)
    t0 = time.perf_counter()
    go.set()
    deadline = time.monotonic() + max_seconds
    for p in processes:
        p.join(timeout=max(0.1, deadline - time.monotonic()))
    finished = all(not p.is_alive() for p in processes)
    if not finished and on_time_up is not None:
        on_time_up()
        for p in processes:
            p.join(timeout=60)
    wall = time.perf_counter() - t0
    for p in processes:
        if p.is_alive():
            p.terminate()  # over time: what was sent by now counts
            p.join(timeout=10)
    collected = []
    for _ in processes:
        try:
            collected.append(results.get(timeout=5))
        except Exception:  # a process stopped over time sends nothing
            break
    return wall, collected, finished


# The run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_options(parser)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=150.0, help="per run")
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"at least {MIN_RUNS}")
    args = parser.parse_args()
    runs_wanted = max(args.runs, MIN_RUNS)
    url = common.database_url(args.db, args.database_url)
    logging.disable(logging.WARNING)
    app = common.make_app(url)
    meta = common.require_data(app)

    from sqlalchemy import delete, func, insert, select, update
    from sqlalchemy.orm import joinedload

    from booking.extensions import db
    from booking.models import Booking, Message, MessageKind
    from booking.sms import texts
    from booking.sms.backends import ConsoleBackend
    from booking.sms.dispatch import dispatch

    notes = {"data": meta["counts"], "load_average_at_start": common.load_average()}
    from tests.sms.twilio_standin import FROM_NUMBER

    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        chosen = db.session.scalars(
            select(Booking)
            .options(joinedload(Booking.block))
            .where(
                Booking.status == "booked",
                Booking.starts_at > now + dt.timedelta(hours=1),
                Booking.mobile.is_not(None),
                Booking.sms_consent.is_(True),
            )
            .order_by(Booking.id)
            .limit(args.messages)
        ).all()
        bookings = [(b.id, b.starts_at, b.mobile) for b in chosen]
        phone = app.config["SERVICE_PHONE"]
        expected = {
            texts.render(MessageKind.CONFIRMATION, b, phone=phone): b.mobile for b in chosen
        }
        db.session.remove()
    n = len(bookings)
    if n < args.messages:
        print(f"only {n} live bookings with a mobile and consent: sending {n} messages")
    notes["messages"] = n
    texts_to_send = [(mobile, body) for body, mobile in expected.items()]

    def queue_messages() -> tuple[int, int]:
        with app.app_context():
            # What has come due in the data set since it was made goes first, as the
            # scheduler would have sent it.
            flushed = dispatch(lambda: dt.datetime.now(dt.UTC), backend=ConsoleBackend())
            due = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            first = (db.session.scalar(select(func.max(Message.id))) or 0) + 1
            db.session.execute(
                insert(Message),
                [
                    {
                        "booking_id": booking_id,
                        "kind": "confirmation",
                        "send_at": due,
                        "due_at": due,
                        "appointment_at": starts_at,
                        "status": "pending",
                        "attempts": 0,
                        "created_at": due,
                    }
                    for booking_id, starts_at, _ in bookings
                ],
            )
            db.session.commit()
            db.session.remove()
        return first, len(flushed.claimed)

    def outcome(first_id: int) -> dict:
        with app.app_context():
            rows = db.session.execute(
                select(Message.status, Message.provider_id).where(Message.id >= first_id)
            ).all()
            db.session.execute(delete(Message).where(Message.id >= first_id))
            db.session.commit()
            db.session.remove()
        return {
            "statuses": dict(Counter(status for status, _ in rows)),
            "provider_ids": {pid for _, pid in rows if pid},
        }

    def count_at_standin(standin: StandIn, provider_ids: set[str] | None) -> dict:
        received = standin.ask("report")
        ours = Counter(body for to, body, sid, answered in received if body in expected)
        accepted = [(body, sid) for to, body, sid, answered in received if answered == 201]
        return {
            "requests": len(received),
            "accepted": len(accepted),
            "distinct_texts": len(ours),
            "duplicates": sum(c - 1 for c in ours.values() if c > 1),
            # Sent in the database's eyes (a provider id stored) but never accepted here.
            "missing": (
                len(provider_ids - {sid for body, sid in accepted})
                if provider_ids is not None
                else len(expected) - len(ours)
            ),
            "other_texts": sum(1 for to, body, sid, answered in received if body not in expected),
            "sids_not_stored": (
                sum(1 for body, sid in accepted if body in expected and sid not in provider_ids)
                if provider_ids is not None
                else None
            ),
        }

    def profile_as(parallel: int, k: int) -> str | None:
        return f"sms_dispatch-{args.db}-x{parallel}-{k + 1}" if args.profile else None

    runs: dict[int, list[tuple[dict, dict]]] = {1: [], 2: []}
    with StandIn() as standin:
        twilio_env = {
            "TWILIO_ACCOUNT_SID": standin.account_sid,
            "TWILIO_AUTH_TOKEN": standin.auth_token,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE_URL": standin.url,
            "PUBLIC_BASE_URL": "https://booking.example.test",
        }
        callback = f"{twilio_env['PUBLIC_BASE_URL']}/sms/status"
        for repeat, parallel in [(k, p) for k in range(runs_wanted) for p in (1, 2)]:
            standin.ask("reset")
            share = [texts_to_send[k::parallel] for k in range(parallel)]
            wall, results, finished = run_processes(
                [(floor_main, (part, twilio_env, callback)) for part in share], args.max_seconds
            )
            counted = count_at_standin(standin, None)
            floor_run = {
                "wall_s": round(wall, 2),
                "per_second": round(counted["accepted"] / wall, 1),
                "finished": finished,
                "cpu_seconds": [r["cpu_seconds"] for r in results],
                **counted,
            }
            print(f"floor x{parallel}, run {repeat + 1}:", floor_run, flush=True)

            first_id, flushed = queue_messages()
            standin.ask("reset")

            def withdraw(first_id=first_id):
                with app.app_context():
                    db.session.execute(
                        update(Message)
                        .where(Message.id >= first_id, Message.status == "pending")
                        .values(status="cancelled", skip_reason="bench: time was up")
                    )
                    db.session.commit()
                    db.session.remove()

            wall, results, finished = run_processes(
                [
                    (dispatcher_main, (url, twilio_env, profile_as(parallel, k)))
                    for k in range(parallel)
                ],
                args.max_seconds,
                withdraw,
            )
            stored = outcome(first_id)
            counted = count_at_standin(standin, stored["provider_ids"])
            sent = stored["statuses"].get("sent", 0)
            dispatch_run = {
                "wall_s": round(wall, 2),
                "per_second": round(sent / wall, 1),
                "finished": finished,
                "statuses": stored["statuses"],
                "flushed_before": flushed,
                "dispatchers": results,
                **counted,
            }
            print(f"dispatch x{parallel}, run {repeat + 1}:", dispatch_run, flush=True)
            runs[parallel].append((dispatch_run, floor_run))

    measures = []
    for parallel in (1, 2):
        # Each run's ratio is against the floor measured just before it: the run with the
        # median ratio is shown, with the spread of all runs beside it.
        ratios = [
            d["per_second"] / f["per_second"] if f["per_second"] else 0.0 for d, f in runs[parallel]
        ]
        middle = sorted(range(len(ratios)), key=lambda k: ratios[k])[len(ratios) // 2]
        run, floor = runs[parallel][middle]
        duplicates = sum(d["duplicates"] + (d["sids_not_stored"] or 0) for d, _ in runs[parallel])
        measures.append(
            common.measure(
                f"messages/s, {parallel} dispatcher{'s' if parallel > 1 else ''}",
                run["per_second"],
                "messages/s",
                goal=f">= {GOAL_RATIO}x floor",
                floor=floor["per_second"],
                floor_name=f"bare twilio client loop x{parallel}, messages/s",
                ratio=ratios[middle],
                met=ratios[middle] >= GOAL_RATIO,
                runs=len(ratios),
                spread=[
                    min(d["per_second"] for d, _ in runs[parallel]),
                    max(d["per_second"] for d, _ in runs[parallel]),
                ],
                floor_spread=[
                    min(f["per_second"] for _, f in runs[parallel]),
                    max(f["per_second"] for _, f in runs[parallel]),
                ],
                ratio_spread=[round(min(ratios), 2), round(max(ratios), 2)],
                duplicates=duplicates,
                missing=sum(d["missing"] for d, _ in runs[parallel]),
                finished=all(d["finished"] for d, _ in runs[parallel]),
            )
        )
    measures.append(
        common.measure(
            "duplicate sends (every run, counted at the stand-in)",
            sum(m["duplicates"] for m in measures),
            "messages",
            goal="0",
            met=all(m["duplicates"] == 0 for m in measures),
        )
    )
    notes["runs"] = {f"x{parallel}": pairs for parallel, pairs in runs.items()}
    common.save_results("sms_dispatch", args.db, measures, notes)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
