"""The writer workload as a boto3 user writes it (bench/peers/run, 3).

Usage: write_boto3.py RECORDS.jsonl ENDPOINT_URL DATABASE TABLE CONCURRENCY

Reads the records `outatime records` printed (one JSON object a line),
turns each into a multi-measure Timestream record, and writes them in
batches of 100 from a ThreadPoolExecutor of CONCURRENCY threads, one
client shared by all, retrying a throttled batch. Prints the records written.
"""

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import boto3
from botocore.config import Config

path, endpoint, database, table, concurrency = sys.argv[1:6]
concurrency = int(concurrency)

client = boto3.client(
    "timestream-write",
    region_name="us-east-1",
    endpoint_url=endpoint,
    aws_access_key_id="bench",
    aws_secret_access_key="bench",
    config=Config(max_pool_connections=concurrency, retries={"max_attempts": 0}),
)

try:
    client.create_database(DatabaseName=database)
except client.exceptions.ConflictException:
    pass
try:
    client.create_table(DatabaseName=database, TableName=table)
except client.exceptions.ConflictException:
    pass


def to_record(line):
    r = json.loads(line)
    when = datetime.fromisoformat(r["time"].replace("Z", "+00:00"))
    measures = []
    for name, value in r["measures"].items():
        kind = "BIGINT" if isinstance(value, int) and not isinstance(value, bool) else "DOUBLE"
        if isinstance(value, bool):
            kind, value = "BOOLEAN", str(value).lower()
        measures.append({"Name": name, "Value": str(value), "Type": kind})
    return {
        "Dimensions": [{"Name": k, "Value": v} for k, v in r["dimensions"].items()],
        "MeasureName": "metrics",
        "MeasureValueType": "MULTI",
        "MeasureValues": measures,
        "Time": str(round(when.timestamp() * 1000)),
        "TimeUnit": "MILLISECONDS",
    }


def write(batch):
    for attempt in range(8):
        try:
            client.write_records(DatabaseName=database, TableName=table, Records=batch)
            return len(batch)
        except client.exceptions.ThrottlingException:
            time.sleep(0.1 * 2**attempt)
    raise RuntimeError("a batch was throttled 8 times")


def batches():
    batch = []
    with open(path) as f:
        for line in f:
            batch.append(to_record(line))
            if len(batch) == 100:
                yield batch
                batch = []
    if batch:
        yield batch


with ThreadPoolExecutor(max_workers=concurrency) as pool:
    written = sum(pool.map(write, batches()))
print(written)
