"""nbn.config_form: widgets from a job's config schema, headless (no kernel needed).

Setting ``.value`` fires observers at once; ``set_state`` is what a browser edit does;
``button.click()`` fires ``on_click``; ``get_state()`` is what the browser would see.
"""

from __future__ import annotations

import enum
import time
from typing import Any

import ipywidgets as widgets
import pytest

import nbflow.notebook as nbn
from nbflow import (
    ConfigMapping,
    Enum,
    EnumValue,
    Field,
    Noneable,
    asset,
    graph,
    job,
    op,
    resource,
)
from nbflow.errors import LiveRunError
from nbflow.storage.run import RunStatus


class Color(enum.Enum):
    RED = 1
    BLUE = 2


@resource(
    config_schema={
        "url": Field(str, description="Where the database is."),
        "timeout": Field(float, default_value=2.5),
    }
)
def database(context: Any) -> dict[str, Any]:
    return dict(context.resource_config)


SCHEMA = {
    "name": Field(str, description="Who is greeted."),
    "count": Field(int, default_value=3),
    "ratio": float,
    "loud": Field(bool, default_value=True),
    "color": Color,
    "speed": Field(
        Enum("Speed", [EnumValue("fast", description="quick"), EnumValue("slow")]),
        default_value="slow",
    ),
    "tags": [str],
    "sizes": Field([int], default_value=[1, 2]),
    "points": Field([{"x": int}], is_required=False),
    "nested": {"depth": Field(int, default_value=1), "label": Field(str, is_required=False)},
    "maybe": Field(Noneable(int), is_required=False),
    "extra": Field(dict, is_required=False),
}


@op(config_schema=SCHEMA, required_resource_keys={"database"})
def greet(context: Any) -> dict[str, Any]:
    return {"config": dict(context.op_config), "database": context.resources.database}


@op
def no_config() -> int:
    return 1


@job(resource_defs={"database": database})
def greeting() -> None:
    greet()
    no_config()


def valid_values(form: Any) -> None:
    fields = form.fields
    fields["ops.greet.config.name"].value = "Ada"
    fields["ops.greet.config.ratio"].value = "0.5"
    fields["ops.greet.config.color"].value = "RED"
    fields["ops.greet.config.tags"].value = "a\nb"
    fields["resources.database.config.url"].value = "sqlite://"


def test_each_config_type_gets_its_widget_with_defaults_and_required_marks() -> None:
    form = nbn.config_form(greeting)
    f = form.fields
    assert set(f) == {
        *(f"ops.greet.config.{k}" for k in SCHEMA if k != "nested"),
        "ops.greet.config.nested.depth",
        "ops.greet.config.nested.label",
        "resources.database.config.url",
        "resources.database.config.timeout",
    }  # no_config has nothing to configure; outputs are not shown
    kinds = {path.rsplit(".", 1)[1]: type(w).__name__ for path, w in f.items()}
    assert kinds == {
        "name": "Text",
        "count": "IntText",
        "ratio": "Text",  # no default: must be typed in
        "loud": "Checkbox",
        "color": "Dropdown",
        "speed": "Dropdown",
        "tags": "Textarea",
        "sizes": "Textarea",
        "points": "Textarea",
        "depth": "IntText",
        "label": "Text",
        "maybe": "Text",
        "extra": "Textarea",
        "url": "Text",
        "timeout": "FloatText",
    }
    assert f["ops.greet.config.count"].value == 3
    assert f["ops.greet.config.loud"].value is True
    assert f["ops.greet.config.speed"].value == "slow"
    assert f["ops.greet.config.sizes"].value == "1\n2"
    assert f["resources.database.config.timeout"].value == 2.5
    assert f["ops.greet.config.name"].description == "name *"  # required
    assert f["ops.greet.config.count"].description == "count"
    assert "Who is greeted." in f["ops.greet.config.name"].tooltip
    assert "Where the database is." in f["resources.database.config.url"].get_state()["tooltip"]
    assert [o for o in f["ops.greet.config.color"].options] == [
        ("— choose —", None),
        ("RED", "RED"),
        ("BLUE", "BLUE"),
    ]


def test_run_config_is_built_from_the_widgets() -> None:
    form = nbn.config_form(greeting)
    assert form.run_config == {
        "ops": {
            "greet": {
                "config": {
                    "count": 3,
                    "loud": True,
                    "speed": "slow",
                    "sizes": [1, 2],
                    "nested": {"depth": 1},
                }
            }
        },
        "resources": {"database": {"config": {"timeout": 2.5}}},
    }
    valid_values(form)
    f = form.fields
    f["ops.greet.config.nested.label"].value = "deep"
    f["ops.greet.config.points"].value = '[{"x": 1}, {"x": 2}]'
    f["ops.greet.config.sizes"].value = "[4, 5, 6]"  # a JSON list works too
    f["ops.greet.config.maybe"].value = "7"
    f["ops.greet.config.extra"].value = '{"k": [1]}'
    config = form.run_config["ops"]["greet"]["config"]
    assert config == {
        "name": "Ada",
        "count": 3,
        "ratio": 0.5,
        "loud": True,
        "color": "RED",
        "speed": "slow",
        "tags": ["a", "b"],
        "sizes": [4, 5, 6],
        "points": [{"x": 1}, {"x": 2}],
        "nested": {"depth": 1, "label": "deep"},
        "maybe": 7,
        "extra": {"k": [1]},
    }
    assert form.valid and form.problems == []


def test_problems_are_listed_inline_and_run_is_disabled_until_fixed() -> None:
    form = nbn.config_form(greeting)
    assert not form.valid
    assert form.run_button.get_state()["disabled"] is True
    listed = form.problems_html.get_state()["value"]
    assert "5 problems" in listed
    assert "ops:greet:config</code>: missing required field &#x27;name&#x27;" in listed
    assert "resources:database:config</code>: missing required field &#x27;url&#x27;" in listed
    url = form.fields["resources.database.config.url"]
    url_error = next(leaf.error for leaf in form.leaves if leaf.widget is url)
    assert "missing required field" in url_error.value

    valid_values(form)  # each .value fires the observer: validated at once
    assert form.valid and form.problems_html.value == "" and url_error.value == ""
    assert form.run_button.get_state()["disabled"] is False

    form.fields["ops.greet.config.count"].set_state({"value": -1})  # a browser edit, still fine
    assert form.valid
    form.fields["ops.greet.config.ratio"].set_state({"value": "fast"})
    assert form.problems == ["root:ops:greet:config:ratio: 'fast' is not a Float"]
    assert "&#x27;fast&#x27; is not a Float" in form.problems_html.value
    assert form.run_button.disabled
    form.fields["ops.greet.config.tags"].value = '["a", 3]'
    assert any("tags[1]: expected String, got 3" in p for p in form.problems)
    form.fields["ops.greet.config.points"].value = "[{"
    assert any(p.startswith("root:ops:greet:config:points: not valid JSON") for p in form.problems)


def test_the_run_button_runs_the_job_with_the_live_view_below() -> None:
    form = nbn.config_form(greeting)
    valid_values(form)
    form.run_button.click()
    live_run = form.last_run
    assert live_run is not None
    result = live_run.wait(30)

    assert result.success
    assert result.output_for_node("greet")["config"]["tags"] == ["a", "b"]
    assert result.output_for_node("greet")["database"]["url"] == "sqlite://"
    wait_for(lambda: len(form.output.children) == 2)
    box, outputs = form.output.children
    cancel, view = box.children
    assert isinstance(view, widgets.HTML)
    wait_for(lambda: "nbflow-live-final" in view.value)
    assert "2/2 steps" in view.value and "<table" in view.value and "<svg" in view.value
    # the answer is on screen: the last step's value, and how to get the result in code
    assert "<b>Outputs</b>" in outputs.value and "<code>no_config</code>" in outputs.value
    assert "<code>greet</code></td><td><code>{&#x27;config&#x27;" in outputs.value
    assert "form.result()" in outputs.value
    assert cancel.layout.display == "none"  # no Cancel once the run has ended
    wait_for(lambda: not form.run_button.disabled)
    assert form.run_button.description == "Run"
    assert form.result() is result


def wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@op(config_schema={"seconds": float})
def nap(context: Any) -> float:
    time.sleep(context.op_config["seconds"])
    return float(context.op_config["seconds"])


@op
def after_nap(value: float) -> float:
    return value


@job
def napping() -> None:
    after_nap(nap())


def test_the_run_button_is_disabled_while_running_and_cancel_stops_the_run() -> None:
    form = nbn.config_form(napping, run_config={"ops": {"nap": {"config": {"seconds": 0.5}}}})
    assert form.fields["ops.nap.config.seconds"].value == 0.5  # started from run_config
    live_run = form.run()
    assert live_run is not None
    assert form.run_button.disabled and form.run_button.description == "Running…"
    assert form.run() is None  # one run at a time
    cancel = form.output.children[0].children[0]
    cancel.click()
    result = live_run.wait(30)
    assert result.run.status is RunStatus.CANCELED
    assert {s.step_key: s.status for s in result.step_summaries()}["after_nap"] == "skipped"
    wait_for(lambda: not form.run_button.disabled)


@op(config_schema={"x": Field(int, default_value=1, description="inner x")})
def inner_op(context: Any) -> int:
    return int(context.op_config["x"])


@graph
def inner_graph() -> int:
    return inner_op()


@job(config={"ops": {"outer": {"ops": {"inner_op": {"config": {"x": 5}}}}}})
def nested_job() -> None:
    inner_graph.alias("outer")()


def test_nested_graphs_nest_and_job_config_defaults_fill_the_form() -> None:
    form = nbn.config_form(nested_job)
    assert list(form.fields) == ["ops.outer.ops.inner_op.config.x"]
    assert form.fields["ops.outer.ops.inner_op.config.x"].value == 5  # from the job's config
    form.fields["ops.outer.ops.inner_op.config.x"].value = 9
    assert form.run_config == {"ops": {"outer": {"ops": {"inner_op": {"config": {"x": 9}}}}}}
    result = form.run().wait(30)  # type: ignore[union-attr]
    assert result.output_for_node("outer.inner_op") == 9


@op(config_schema={"greeting": str})
def say(context: Any) -> str:
    return str(context.op_config["greeting"])


@job(
    config=ConfigMapping(
        config_fn=lambda c: {"ops": {"say": {"config": {"greeting": f"hi {c['who']}"}}}},
        config_schema={"who": Field(str, default_value="you")},
    )
)
def mapped_job() -> None:
    say()


def test_a_config_mapping_job_shows_the_mapping_schema() -> None:
    form = nbn.config_form(mapped_job)
    assert list(form.fields) == ["who"]
    form.fields["who"].value = "Ada"
    assert form.run_config == {"who": "Ada"} and form.valid
    assert form.run().wait(30).output_for_node("say") == "hi Ada"  # type: ignore[union-attr]


def test_assets_and_what_cannot_be_configured() -> None:
    @asset(config_schema={"n": Field(int, default_value=2)})
    def doubled(context: Any) -> int:
        return 2 * int(context.op_config["n"])

    form = nbn.config_form([doubled])
    assert list(form.fields) == ["ops.doubled.config.n"]
    form.fields["ops.doubled.config.n"].value = 21
    assert form.run().wait(30).asset_value("doubled") == 42  # type: ignore[union-attr]
    with pytest.raises(LiveRunError, match="Cannot build a config form for int"):
        nbn.config_form(3)


def test_the_form_displays_as_its_widget() -> None:
    form = nbn.config_form(napping)
    bundle = form._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == form.widget.model_id
    assert repr(form) == "<ConfigForm napping: 1 fields, 1 problem>"


def test_parts_the_form_does_not_show_are_kept_from_run_config() -> None:
    base = {"execution": {"config": {"retries": {"disabled": {}}}}}
    form = nbn.config_form(napping, run_config={**base, "ops": {"nap": {"config": {"seconds": 0}}}})
    assert form.run_config["execution"] == base["execution"]
    assert form.fields["ops.nap.config.seconds"].value == 0.0


@op(
    config_schema={
        "n": Field(int, default_value=1),
        "switch": Field(Noneable(bool), is_required=False),
        "color": Field(Color, default_value="BLUE"),
    }
)
def odd_values(context: Any) -> dict[str, Any]:
    return dict(context.op_config)


@job
def odd_values_job() -> None:
    odd_values()


def test_starting_values_that_do_not_fit_still_build_the_form_and_are_reported() -> None:
    start = {"ops": {"odd_values": {"config": {"n": "many", "color": "GREEN"}}}}
    form = nbn.config_form(odd_values_job, run_config=start)
    f = form.fields
    assert type(f["ops.odd_values.config.n"]).__name__ == "Text"  # not a number box
    assert form.problems == ["root:ops:odd_values:config:n: 'many' is not an Int"]
    assert f["ops.odd_values.config.color"].value is None  # GREEN is not a choice
    assert [label for label, _ in f["ops.odd_values.config.switch"].options] == [
        "(none)",
        "true",
        "false",
    ]
    f["ops.odd_values.config.n"].value = "4"
    f["ops.odd_values.config.switch"].value = False
    assert form.valid
    assert form.run_config["ops"]["odd_values"]["config"] == {"n": 4, "switch": False}
    assert form.run().wait(30).output_for_node("odd_values") == {  # type: ignore[union-attr]
        "n": 4,
        "switch": False,
        "color": Color.BLUE,
    }
    assert start == {"ops": {"odd_values": {"config": {"n": "many", "color": "GREEN"}}}}
