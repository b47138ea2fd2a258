"""nbflow's quick-start job: word statistics over a text, shipped inside the package.

Run it from anywhere nbflow is installed::

    nbflow job execute -m nbflow.examples.quickstart

Its ops take config; a YAML file given with ``-c`` changes them, for example::

    ops:
      load_text:
        config:
          text: "To be, or not to be, that is the question."
      summarize:
        config:
          top: 2

In the repository, ``examples/quickstart.py`` runs the same job and ``examples/quickstart.yaml``
is that file.
"""

from collections import Counter

from nbflow import Field, In, OpExecutionContext, Out, job, op

DEFAULT_TEXT = (
    "Notebooks are where ideas start. Pipelines are where ideas last. "
    "nbflow lets the ideas that start in notebooks last in pipelines."
)


@op(config_schema={"text": Field(str, default_value=DEFAULT_TEXT, description="Text to study")})
def load_text(context: OpExecutionContext) -> str:
    """The text to analyse, from run config."""
    text: str = context.op_config["text"]
    return text


@op
def tokenize(text: str) -> list[str]:
    """Lower-cased words, punctuation stripped."""
    words = (w.strip(".,;:!?\"'()").lower() for w in text.split())
    return [w for w in words if w]


@op(
    out={"counts": Out(dict), "total": Out(int)},
    config_schema={"min_length": Field(int, default_value=3)},
)
def count_words(context: OpExecutionContext, words: list[str]) -> tuple[dict[str, int], int]:
    """How often each word of at least `min_length` letters appears, and how many words in all."""
    kept = [w for w in words if len(w) >= context.op_config["min_length"]]
    context.add_output_metadata({"distinct": len(set(kept))}, output_name="counts")
    return dict(Counter(kept)), len(words)


@op(ins={"counts": In(dict), "total": In(int)}, config_schema={"top": Field(int, default_value=3)})
def summarize(context: OpExecutionContext, counts: dict[str, int], total: int) -> str:
    """A one-line summary of the most common words."""
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: context.op_config["top"]]
    listed = ", ".join(f"{word} ({n})" for word, n in top)
    return f"{total} words; most common: {listed}"


@job(description="Word statistics over a text.")
def word_stats() -> None:
    counts, total = count_words(tokenize(load_text()))
    summarize(counts, total)
