"""`bench/suggest.py` runs on any CSV of `text,category` and ends with its figures line (a small
made-up set here; the real figures come from BANKING77, see the README)."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOPICS = [
    ("card", "my card has not arrived yet", "where is the card you sent me"),
    ("refund", "please refund my double charge", "I want my money back for the charge"),
    ("pin", "I forgot my pin code", "how do I reset my pin"),
    ("transfer", "my transfer is still pending", "the bank transfer has not gone through"),
    ("app", "the app crashes when I log in", "your mobile app keeps crashing"),
    ("fee", "why was I charged a fee", "there is a fee I do not understand"),
    ("address", "how do I change my address", "I moved and need a new address"),
    ("limit", "what is my spending limit", "can you raise my card limit"),
    ("atm", "the atm kept my card", "cash machine swallowed my card"),
    ("rate", "which exchange rate do you use", "the exchange rate was wrong"),
    ("close", "I want to close my account", "please delete my account"),
    ("verify", "why do you need to verify my identity", "identity check failed"),
]


def test_the_benchmark_prints_its_figures_line(tmp_path: Path) -> None:
    data = tmp_path / "tickets.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "category"])
        for name, first, second in TOPICS:
            for n in range(25):
                writer.writerow([f"{first if n % 2 else second} ({n})", name])
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "suggest.py"), "--data", str(data), "--shots", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    keys = [
        "shots",
        "queries",
        "top1",
        "top3",
        "baseline_top1",
        "autolink_precision",
        "autolink_coverage",
        "ece",
        "ms_per_ticket",
        "emerging_recall",
        "emerging_purity",
    ]
    assert re.fullmatch("suggest " + " ".join(f"{k}=[0-9.]+" for k in keys), last), last
    assert "shots=3 queries=264 " in last  # 12 categories x (25 - 3)
