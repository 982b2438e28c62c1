"""The replay workload as a pandas user writes it (bench/peers/run, 1).

Usage: replay_pandas.py [--sort] IN.csv OUT.jsonl

Shifts a recorded fleet by 7 days, adds a 12.5 spike to d-0007 for 30
minutes, drops d-0042's rows for an hour, and writes JSON lines: the same
work as the scenario bench/peers/run writes beside the CSV. --sort: the
rows are not in time order, and come out sorted by time, then device (4).
"""

import sys

import pandas as pd

args = sys.argv[1:]
sort = args[:1] == ["--sort"]
source, out = args[1:] if sort else args

df = pd.read_csv(source, parse_dates=["ts"])
if sort:
    df = df.sort_values(["ts", "device_id"], kind="stable")
df["ts"] = df["ts"] + pd.Timedelta(days=7)

spike = (
    (df["device_id"] == "d-0007")
    & (df["ts"] >= pd.Timestamp("2024-03-08T06:00Z"))
    & (df["ts"] < pd.Timestamp("2024-03-08T06:00Z") + pd.Timedelta(minutes=30))
)
df.loc[spike, "value"] += 12.5

dropout = (
    (df["device_id"] == "d-0042")
    & (df["ts"] >= pd.Timestamp("2024-03-08T12:00Z"))
    & (df["ts"] < pd.Timestamp("2024-03-08T12:00Z") + pd.Timedelta(hours=1))
)
df = df[~dropout]

df.to_json(out, orient="records", lines=True, date_format="iso", date_unit="ms")
