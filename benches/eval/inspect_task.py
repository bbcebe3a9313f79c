"""The same benchmark task for Inspect: the same JSONL, a plain generate() and match()."""

import os

from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import match
from inspect_ai.solver import generate


@task
def echo():
    return Task(
        dataset=json_dataset(os.environ["BENCH_DATA"]),
        solver=generate(),
        scorer=match(),
        config=GenerateConfig(max_tokens=16),
    )
