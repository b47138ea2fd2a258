"""The quick-start job: word counts of a text (``nbflow example quickstart``)."""

from collections import Counter
from typing import Any

from nbflow import Field, job, op


@op(config_schema={"text": Field(str, default_value="ideas start in notebooks and last")})
def load_text(context: Any) -> str:
    """The text to count, from run config."""
    return str(context.op_config["text"])


@op
def count_words(text: str) -> dict[str, int]:
    """How often each word appears."""
    return dict(Counter(text.lower().split()))


@op
def summarize(counts: dict[str, int]) -> str:
    """The most common word and how many distinct words there are."""
    word, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return f"{len(counts)} distinct words; most common: {word} ({n})"


@job(description="Word counts of a text.")
def quickstart() -> None:
    summarize(count_words(load_text()))
