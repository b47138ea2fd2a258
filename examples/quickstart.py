"""nbflow's main example job: word statistics over a text, run with `nbflow job execute`.

nbflow job execute -f examples/quickstart.py
nbflow job execute -f examples/quickstart.py -c examples/quickstart.yaml
"""

from collections import Counter

from nbflow import Field, In, Out, job, op

DEFAULT_TEXT = (
    "Notebooks are where ideas start. Pipelines are where ideas last. "
    "nbflow lets the ideas that start in notebooks last in pipelines."
)


@op(config_schema={"text": Field(str, default_value=DEFAULT_TEXT, description="Text to study")})
def load_text(context) -> str:
    """The text to analyse, from run config."""
    return context.op_config["text"]


@op
def tokenize(text: str) -> list:
    """Lower-cased words, punctuation stripped."""
    words = (w.strip(".,;:!?\"'()").lower() for w in text.split())
    return [w for w in words if w]


@op(
    out={"counts": Out(dict), "total": Out(int)},
    config_schema={"min_length": Field(int, default_value=3)},
)
def count_words(context, words: list):
    """How often each word of at least `min_length` letters appears, and how many words in all."""
    kept = [w for w in words if len(w) >= context.op_config["min_length"]]
    context.add_output_metadata({"distinct": len(set(kept))}, output_name="counts")
    return dict(Counter(kept)), len(words)


@op(ins={"counts": In(dict), "total": In(int)}, config_schema={"top": Field(int, default_value=3)})
def summarize(context, counts: dict, total: int) -> str:
    """A one-line summary of the most common words."""
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: context.op_config["top"]]
    listed = ", ".join(f"{word} ({n})" for word, n in top)
    return f"{total} words; most common: {listed}"


@job(description="Word statistics over a text.")
def word_stats():
    counts, total = count_words(tokenize(load_text()))
    summarize(counts, total)
