"""Dynamic expansion of a plan: steps mapped over a dynamic output are known as templates
until the dynamic step has run; its mapping keys then turn each template into one step per
key (``op[key]``), and the steps that collect them get their fan-in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from nbflow.definitions.dynamic import element_name, is_dynamic, mapped_step_key
from nbflow.execution.engine.dynamic_outputs import version_element
from nbflow.execution.engine.io_contexts import IOScope

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from nbflow.execution.engine.plan import ExecutionPlan, Step, StepInput, StepOutputHandle
    from nbflow.execution.engine.run_context import RunContext

ANY_MAPPING_KEY = "*"
"""The mapping key of a mapped step shown before its keys are known: ``op[*]``."""


def dynamic_outputs(steps: Sequence[Step]) -> set[StepOutputHandle]:
    """Every ``DynamicOut`` output of ``steps``."""
    return {(s.key, n) for s in steps for n, spec in s.op_def.outs.items() if is_dynamic(spec)}


def split_mapped(flat: list[Step], problems: list[str]) -> tuple[list[Step], list[Step]]:
    """Split flattened steps into plain steps and templates of mapped steps.

    A step is mapped when it takes a dynamic output's element, or a mapped step's output
    (which it then takes for the same mapping key). Problems are appended to ``problems``.
    """
    dynamic = dynamic_outputs(flat)
    over: dict[str, StepOutputHandle] = {}
    for step in flat:
        sources = _mapped_sources(step, dynamic, over, problems)
        if not sources:
            continue
        if len(sources) > 1 or any(i.collects is not None for i in step.inputs):
            problems.append(
                f"step {step.key!r} is mapped over {sorted(sources)} or collects inside a "
                "mapping; nbflow maps over one dynamic output at a time, without nesting."
            )
        if any(is_dynamic(spec) for spec in step.op_def.outs.values()):
            problems.append(f"step {step.key!r} has a DynamicOut but is itself mapped (nesting).")
        step.mapped_over = next(iter(sorted(sources)))
        over[step.key] = step.mapped_over
    return [s for s in flat if s.key not in over], [s for s in flat if s.key in over]


def _mapped_sources(
    step: Step,
    dynamic: set[StepOutputHandle],
    over: Mapping[str, StepOutputHandle],
    problems: list[str],
) -> set[StepOutputHandle]:
    """The dynamic outputs ``step`` is mapped over (through an element or a mapped step)."""
    sources: set[StepOutputHandle] = set()
    for i in step.inputs:
        if i.element_of is not None:
            if i.element_of not in dynamic:
                problems.append(
                    f"step {step.key!r} maps over '{i.element_of[0]}.{i.element_of[1]}', "
                    "which is not a DynamicOut output."
                )
            sources.add(i.element_of)
        if i.collects is not None and i.collects not in dynamic and i.collects[0] not in over:
            problems.append(
                f"step {step.key!r} collects '{i.collects[0]}.{i.collects[1]}', which is "
                "neither a dynamic output nor mapped over one."
            )
        for up in i.upstreams:
            if up[0] in over and i.fan_in:
                problems.append(
                    f"step {step.key!r} fans in mapped output '{up[0]}.{up[1]}'. Fix: "
                    "use .collect()."
                )
            elif up[0] in over:
                sources.add(over[up[0]])
            elif up in dynamic:
                problems.append(
                    f"step {step.key!r} takes dynamic output '{up[0]}.{up[1]}' as a plain "
                    "input. Fix: .map(...) over it, or .collect() it into a list."
                )
    return sources


def collect_source(step_input: StepInput, templates: Mapping[str, Step]) -> str | None:
    """The dynamic step whose mapping keys a collecting input waits for."""
    collected = step_input.collects
    if collected is None:
        return None
    template = templates.get(collected[0])
    return template.mapped_over[0] if template and template.mapped_over else collected[0]


def collect_waits(step: Step, templates: Sequence[Step]) -> tuple[str, ...]:
    """Steps a collecting step waits for before expansion: the dynamic steps it gathers."""
    by_key = {t.key: t for t in templates}
    waits = (collect_source(i, by_key) for i in step.inputs)
    return tuple(dict.fromkeys(k for k in waits if k is not None and k not in step.upstream_keys))


class DynamicSteps:
    """The templates of a plan's mapped steps, expanded as mapping keys become known."""

    def __init__(self, plan: ExecutionPlan, templates: Sequence[Step]) -> None:
        self._plan = plan
        self.templates: dict[str, Step] = {t.key: t for t in templates}
        self.mapping_keys: dict[StepOutputHandle, list[str]] = {}
        """Dynamic output → its mapping keys, in the order they were yielded."""
        self._any_dynamic: bool | None = None

    def __bool__(self) -> bool:
        return bool(self.templates) or any(
            i.collects is not None for s in self._plan.steps.values() for i in s.inputs
        )

    def outputs_of(self, step: Step) -> list[str]:
        """The dynamic outputs of ``step`` that mapped or collecting steps wait for."""
        return [n for n, spec in step.op_def.outs.items() if is_dynamic(spec)]

    def mapped_values(self, step_key: str, output_name: str) -> list[tuple[str, StepOutputHandle]]:
        """For a dynamic output or a mapped step's output: (mapping key, the step output
        holding that key's value), in yield order; empty for other outputs."""
        template = self.templates.get(step_key)
        if template is not None and template.mapped_over is not None:
            keys = self.mapping_keys.get(template.mapped_over, [])
            return [(k, (mapped_step_key(step_key, k), output_name)) for k in keys]
        keys = self.mapping_keys.get((step_key, output_name), [])
        return [(k, (step_key, element_name(output_name, k))) for k in keys]

    def is_mapped(self, step_key: str, output_name: str) -> bool:
        """Whether the output's value is a dict by mapping key (dynamic, or mapped)."""
        if step_key in self.templates:
            return True
        if not self._has_dynamic_outputs():
            return False  # the usual case, without a lookup in a large plan per call
        spec = self._plan.op_def_for(step_key).outs.get(output_name)
        return spec is not None and is_dynamic(spec)

    def _has_dynamic_outputs(self) -> bool:
        """Whether any op of the job has a ``DynamicOut`` (found once, from its op
        definitions, which a large job shares between many steps)."""
        if self._any_dynamic is None:
            op_defs = self._plan.job_def.graph_def.op_defs()
            self._any_dynamic = any(is_dynamic(s) for d in op_defs for s in d.outs.values())
        return self._any_dynamic

    def keys_for(self, step: Step) -> dict[StepOutputHandle, list[str]]:
        """The known mapping keys of the dynamic outputs ``step`` is mapped over or collects:
        what another process needs to expand the plan it rebuilds up to ``step``."""
        sources: list[StepOutputHandle | None] = [step.mapped_over]
        for step_input in step.inputs:
            collected = step_input.collects
            if collected is not None:
                template = self.templates.get(collected[0])
                sources.append(template.mapped_over if template else collected)
        known = self.mapping_keys
        return {s: known[s] for s in sources if s is not None and s in known}

    def shown_steps(self) -> list[Step]:
        """The plan's steps as views show them, in plan order: each template whose mapping
        keys are not known yet as one step ``op[*]``, the steps collecting it fed by it."""
        waiting = [t for t in self.templates.values() if t.mapped_over not in self.mapping_keys]
        steps = [*self._plan.steps.values(), *(self._copy(t, ANY_MAPPING_KEY) for t in waiting)]
        shown: list[Step] = []
        for step in sorted(steps, key=lambda s: s.index):
            inputs = tuple(self._shown_collect(i) for i in step.inputs)
            shown.append(step if inputs == step.inputs else replace(step, inputs=inputs))
        return shown

    def _shown_collect(self, step_input: StepInput) -> StepInput:
        collected = step_input.collects
        if collected is None or step_input.fan_in:
            return step_input
        if collected[0] in self.templates:
            shown = (mapped_step_key(collected[0], ANY_MAPPING_KEY), collected[1])
        else:
            shown = (collected[0], element_name(collected[1], ANY_MAPPING_KEY))
        return replace(step_input, fan_in=(shown,))

    def expand(self, source: StepOutputHandle, keys: Sequence[str]) -> list[Step]:
        """Add one step per template mapped over ``source`` and mapping key; give the
        steps collecting them their fan-in. Returns the new steps, in plan order."""
        plan = self._plan
        self.mapping_keys[source] = list(keys)
        created: list[Step] = []
        for template in self.templates.values():
            if template.mapped_over != source:
                continue
            for key in keys:
                step = self._copy(template, key)
                plan.steps[step.key] = step
                plan.downstream[step.key] = []
                created.append(step)
        for step in created:
            for up in step.upstream_keys:
                if up in plan.downstream and step.key not in plan.downstream[up]:
                    plan.downstream[up].append(step.key)
        for step in list(plan.steps.values()):
            self._fill_collects(step, source, keys)
        return created

    def _copy(self, template: Step, key: str) -> Step:
        inputs = tuple(self._input_for(i, key) for i in template.inputs)
        ups = dict.fromkeys(up[0] for i in inputs for up in i.upstreams)
        return replace(
            template,
            key=mapped_step_key(template.key, key),
            inputs=inputs,
            mapping_key=key,
            upstream_keys=tuple(ups),
        )

    def _input_for(self, step_input: StepInput, key: str) -> StepInput:
        if step_input.element_of is not None:
            dyn_key, name = step_input.element_of
            return replace(step_input, element_of=None, upstream=(dyn_key, element_name(name, key)))
        up = step_input.upstream
        if up is not None and up[0] in self.templates:
            return replace(step_input, upstream=(mapped_step_key(up[0], key), up[1]))
        return step_input

    def _fill_collects(self, step: Step, source: StepOutputHandle, keys: Sequence[str]) -> None:
        plan = self._plan
        inputs = list(step.inputs)
        for n, i in enumerate(inputs):
            collected = i.collects
            if collected is None or i.fan_in:
                continue
            template = self.templates.get(collected[0])
            if template is not None and template.mapped_over == source:
                fan_in = tuple((mapped_step_key(collected[0], k), collected[1]) for k in keys)
            elif collected == source:
                fan_in = tuple((source[0], element_name(source[1], k)) for k in keys)
            else:
                continue
            inputs[n] = replace(i, fan_in=fan_in)
            new_ups = [up[0] for up in fan_in if up[0] not in step.upstream_keys]
            step.upstream_keys += tuple(dict.fromkeys(new_ups))
            for up in dict.fromkeys(new_ups):
                plan.downstream[up].append(step.key)
        step.inputs = tuple(inputs)


def expand_after(run: RunContext, step: Step) -> list[Step]:
    """Expand the templates mapped over ``step``'s dynamic outputs, once it has succeeded
    (or was found stored); returns the new steps.

    The mapping keys come from the elements the step produced in this run, or, when it was
    memoized, from its stored list of keys.
    """
    dynamic = run.plan.dynamic
    created: list[Step] = []
    for name in dynamic.outputs_of(step):
        keys = run.mapping_keys.get((step.key, name))
        if keys is None:
            keys = _stored_mapping_keys(run, step.key, name)
        stored = run.memoized.get(step.key)
        for key in keys:
            element = element_name(name, key)
            version_element(run, step.key, element)
            if stored is not None and (step.key, element) in run.versions:
                stored[element] = run.versions[(step.key, element)]
        created += dynamic.expand((step.key, name), keys)
    if created or dynamic.outputs_of(step):
        run.pending_versions.update(s.key for s in created)
        run.pending_versions.update(
            s.key for s in run.plan.steps.values() if any(i.collects for i in s.inputs)
        )
    return created


def _stored_mapping_keys(run: RunContext, step_key: str, name: str) -> list[str]:
    scope = IOScope.of_run(run)
    upstream = scope.output(step_key, name, run.versions.get((step_key, name)))
    context = scope.input(step_key, name, upstream)
    keys: list[str] = scope.io_manager(step_key, name).load_input(context)
    return list(keys)
