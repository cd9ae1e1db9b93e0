"""Check the Chef tree and every environment's domain spec before a bake, without AWS.

validate_all() runs the cookbook's structural checks, then renders the domain
spec of each environment in pipeline.yaml the way the ``domain`` recipe does and
validates it with the environment's Auto Scaling group maximum. A problem in a
rendered spec is reported at the Chef file and line that set the value, so the
fix goes where the value lives.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from builder.config import LoadedPipeline
from builder.cookbook import check_cookbook
from builder.domain_render import DomainRenderError, RenderedSpec, render_domain_spec_with_sources
from builder.domain_spec import validate_domain_spec
from builder.errors import Problem
from builder.yamlsafe import load_yaml

_INDEX = re.compile(r"\[(\d+)\]")


def _pointer(field: str) -> str:
    """Turn a Problem field such as 'jms.modules[0].targets' into the JSON pointer '/jms/modules/0/targets'."""
    if not field:
        return ""
    return "/" + _INDEX.sub(r".\1", field).replace(".", "/")


def _located(problem: Problem, rendered: RenderedSpec, environment: str) -> Problem:
    """Move a problem of the rendered spec to the Chef file and line behind the value."""
    file, line = rendered.source(_pointer(problem.field))
    if not file:
        return problem
    return Problem(
        file, line, problem.field, f"{problem.message} (domain spec rendered for environment {environment!r})"
    )


def _pipeline_line(loaded: LoadedPipeline, environment: str) -> int | None:
    return load_yaml(loaded.path).line_of(("environments", environment))


def validate_environment(loaded: LoadedPipeline, environment: str) -> list[Problem]:
    """Render one environment's domain spec and return its problems, located in the Chef tree.

    The spec must pass builder.domain_spec.validate_domain_spec with asg_max set to
    the environment's asg.max from pipeline.yaml.
    """
    chef_dir = loaded.root / "chef"
    if not (chef_dir / "environments" / f"{environment}.json").is_file():
        return [
            Problem(
                loaded.path.name,
                _pipeline_line(loaded, environment),
                f"environments.{environment}",
                f"Chef environment not found: expected chef/environments/{environment}.json with the environment's attributes",
            )
        ]
    try:
        rendered = render_domain_spec_with_sources(chef_dir, environment)
    except DomainRenderError as error:
        return [error.problem]
    except (AttributeError, TypeError, KeyError, ValueError) as error:
        # A value of the wrong JSON type deep inside an attribute tree or data bag item.
        return [
            Problem(
                f"chef/environments/{environment}.json",
                None,
                "",
                f"the domain spec of {environment!r} cannot be rendered: a value has the wrong JSON type ({error}); "
                "compare the Chef environment and the data bag items it uses with chef/environments/dev.json",
            )
        ]

    asg_max = loaded.pipeline.environments[environment].asg.max
    with tempfile.TemporaryDirectory(prefix="osb-image-validate-") as scratch:
        spec_file = Path(scratch) / f"domain-spec.{environment}.json"
        spec_file.write_text(json.dumps(rendered.spec, indent=2) + "\n", encoding="utf-8")
        problems = validate_domain_spec(spec_file, asg_max=asg_max)
    return [_located(problem, rendered, environment) for problem in problems]


def validate_all(loaded: LoadedPipeline) -> list[Problem]:
    """Return every problem of the Chef tree and of each environment's domain spec; empty when all are valid.

    The cookbook's structure is checked first (builder.cookbook.check_cookbook).
    Rendering needs a consistent tree, so environments are checked only when the
    structure has no problems.
    """
    problems = check_cookbook(loaded.root / "chef")
    if problems:
        return problems
    for environment in loaded.pipeline.environments:
        problems.extend(validate_environment(loaded, environment))
    return problems
