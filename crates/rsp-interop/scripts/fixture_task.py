"""Fixture task for rsp-interop: 5 samples against the loopback OpenAI stub.

The stub answers with the last word of the prompt, so samples whose target is that
word score C under match() and the others I. Two custom scorers add P / N values,
values that differ between epochs, a numeric scorer and an unscored (NaN) value.
"""

import math
import os
import asyncio

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Score, Target, accuracy, match, mean, scorer, stderr
from inspect_ai.solver import TaskState, generate, solver

LONG = (
    "This prompt is deliberately longer than one hundred characters so that Inspect "
    "moves it into the sample's attachments table. Repeat this word: grape"
)

SAMPLES = [
    Sample(id=1, input="Repeat this word: apple", target="apple"),
    Sample(id=2, input="Repeat this word: pear", target="plum"),
    Sample(id=3, input=LONG, target="grape"),
    Sample(id=4, input="Repeat this word: kiwi", target="kiwi"),
    Sample(id=5, input="Repeat this word: lime", target="lemon"),
]

GRADES = {1: ["C", "P"], 2: ["I", "I"], 3: ["C", "I"], 4: ["P", "P"], 5: ["N", "C"]}


@scorer(metrics=[accuracy(), stderr()])
def graded():
    async def score(state: TaskState, target: Target) -> Score:
        value = GRADES[int(state.sample_id)][state.epoch - 1]
        return Score(value=value, answer=state.output.completion, explanation=f"epoch {state.epoch}")

    return score


@scorer(metrics=[mean(), stderr()])
def numeric():
    async def score(state: TaskState, target: Target) -> Score:
        sid = int(state.sample_id)
        if sid == 2 and state.epoch == 1:
            return Score(value=math.nan)  # unscored
        return Score(value=round(sid * 0.1 * state.epoch + 0.05, 3))

    return score


@solver
def slow():
    async def solve(state, generate):
        delay = float(os.environ.get("FIXTURE_SLEEP", "0"))
        if delay and int(state.sample_id) >= 3:
            await asyncio.sleep(delay)
        return state

    return solve


@task
def fixture():
    reducers = os.environ.get("FIXTURE_REDUCERS", "mean").split(",")
    return Task(
        dataset=MemoryDataset(SAMPLES, name="fixture"),
        solver=[slow(), generate()],
        scorer=[match(), graded(), numeric()],
        epochs=Epochs(2, reducers if len(reducers) > 1 else reducers[0]),
        config=GenerateConfig(max_tokens=16),
    )
