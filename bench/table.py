"""The results table: every measure in bench/results/*.json as one Markdown table.

python bench/table.py [RESULTS_DIR]

The "before" column is the same measure in RESULTS_DIR/before/ (the results before the fixes
described in bench/README.md), where there is one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ORDER = [
    "slots",
    "booking_load",
    "sergeant_pages",
    "sms_dispatch",
    "calendar",
    "reports",
    "year_summary",
    "scale_out",
    "pg_restart",
    "page_weight",
]


def fmt(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results"
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    records.sort(
        key=lambda r: (ORDER.index(r["benchmark"]) if r["benchmark"] in ORDER else 99, r["db"])
    )
    before = {
        (r["benchmark"], r["db"], m["measure"]): m
        for r in (json.loads(p.read_text()) for p in sorted((folder / "before").glob("*.json")))
        for m in r["measures"]
    }
    print(
        "| benchmark | db | data | measure | before | value | runs | spread | goal | floor"
        " | ratio | met | load avg |"
    )
    print("| --- | --- | --- | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | --- | --- |")
    for record in records:
        past = record.get("notes", {}).get("data", {}).get("past bookings", 0)
        data = f"{past / 1e6:g}M" if past >= 1e6 else f"{past / 1e3:g}k" if past else "small"
        for m in record["measures"]:
            value = f"{fmt(m['value'])} {m['unit']}"
            earlier = before.get((record["benchmark"], record["db"], m["measure"]))
            was = f"{fmt(earlier['value'])} {earlier['unit']}" if earlier else ""
            floor = f"{fmt(m['floor'])}" if "floor" in m else ""
            spread = m.get("spread") or m.get("spread_ms")
            spread = f"{fmt(spread[0])} to {fmt(spread[1])}" if spread else ""
            print(
                f"| {record['benchmark']} | {record['db']} | {data} | {m['measure']} | {was} "
                f"| {value} | {fmt(m.get('runs'))} | {spread} | "
                f"{m.get('goal', '')} | {floor} | {fmt(m.get('ratio'))} | {fmt(m.get('met'))} | "
                f"{record.get('load_average_at_end', '')} |"
            )


if __name__ == "__main__":
    main()
