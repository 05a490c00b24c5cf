"""The template's operational options, each combination of them, and the template CloudFormation would
deploy for one combination.

    python -m tools.stack_options DIR   # template.yaml as deployed with each combination, in DIR

`instantiate` decides every condition that depends on parameters alone, keeps only the resources and
outputs whose condition holds, and takes the chosen branch of each Fn::If. Conditions on pseudo parameters
(the partition) stay for CloudFormation, so one instance serves every region. It reads SAM templates and
their translations alike: both use CloudFormation's conditions.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# Each option and the values whose templates differ. The provider is not an option here, but the two
# modes create different resources, so every combination is taken in both.
MODES: dict[str, dict[str, str]] = {
    "own-provider": {"IssuerUrl": "https://issuer.example.com", "Audience": "api://messages"},
    "self-contained": {"IssuerUrl": "", "Audience": ""},
}
OPTIONS: dict[str, dict[str, dict[str, str]]] = {
    "access-logs": {"off": {}, "on": {"AccessLogs": "true"}},
    "alarms": {
        "off": {},
        "email": {"AlarmEmail": "ops@example.com"},
        "topic": {"AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops-alarms"},
    },
    "reserved-concurrency": {"off": {}, "50": {"AuthorizerReservedConcurrency": "50"}},
    "tls": {"enhanced": {}, "legacy": {"SecurityPolicy": "TLS_1_2"}},
}


def combinations() -> dict[str, dict[str, str]]:
    """Every combination of the options in both modes, by a readable name."""
    named = {}
    choices = [[(option, value) for value in values] for option, values in OPTIONS.items()]
    for mode, provider in MODES.items():
        for chosen in itertools.product(*choices):
            name = "-".join([mode, *(f"{option}={value}" for option, value in chosen)])
            parameters = dict(provider)
            for option, value in chosen:
                parameters |= OPTIONS[option][value]
            named[name] = parameters
    return named


class _Unknown(Exception):
    """The condition depends on a pseudo parameter: CloudFormation decides it in each region."""


_NO_VALUE = {"Ref": "AWS::NoValue"}


def translate(source: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The CloudFormation template `sam deploy` would create from the SAM template `source`."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    from local.template import resolve_before_sam

    template = copy.deepcopy(source)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            # What `sam package` does: the local code folder becomes an uploaded S3 object.
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{logical_id}"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    translated: dict[str, Any] = translator.translate(
        resolve_before_sam(template, parameters),
        parameter_values=dict(parameters),
        get_managed_policy_map=lambda: {},  # the template names no managed policy
    )
    return translated


def instantiate(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """`template` as deployed with the parameters `given` (the others at their defaults)."""
    values = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
    values |= given
    defined = template.get("Conditions", {})
    decided: dict[str, bool] = {}
    for name in defined:
        with contextlib.suppress(_Unknown):
            decided[name] = holds({"Condition": name}, lambda argument: _value(argument, values), defined)

    def kept(node: dict[str, Any]) -> bool:
        return decided.get(node.get("Condition", ""), True)

    def prune(node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (prune(item) for item in node) if item != _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Fn::If"} and node["Fn::If"][0] in decided:
            name, when_true, when_false = node["Fn::If"]
            return prune(when_true if decided[name] else when_false)
        pruned = {key: prune(value) for key, value in node.items()}
        return {key: value for key, value in pruned.items() if value != _NO_VALUE}

    instance = copy.deepcopy(template)
    for section in ("Resources", "Outputs"):
        instance[section] = {name: node for name, node in instance.get(section, {}).items() if kept(node)}
        for node in instance[section].values():
            if node.get("Condition") in decided:
                del node["Condition"]
    for name, value in given.items():
        parameter = instance["Parameters"][name]
        parameter["Default"] = int(value) if parameter["Type"] == "Number" else value
    for section in ("Resources", "Outputs", "Globals"):
        if section in instance:
            instance[section] = prune(instance[section])
    # The undecided conditions that something left still uses (as CloudFormation refuses unused ones).
    remaining = json.dumps([instance.get(section) for section in ("Resources", "Outputs", "Globals")])
    instance["Conditions"] = {
        name: condition
        for name, condition in defined.items()
        if name not in decided and f'"{name}"' in remaining
    }
    if not instance["Conditions"]:
        del instance["Conditions"]
    return instance


def holds(condition: Any, value_of: Callable[[Any], str], defined: dict[str, Any]) -> bool:
    """A template condition (Condition, Fn::Equals, Fn::Not, Fn::And, Fn::Or), with `value_of` giving the
    value of each argument of Fn::Equals and `defined` the template's conditions that it may name."""
    [(function, arguments)] = condition.items()
    if function == "Condition":
        return holds(defined[arguments], value_of, defined)
    if function == "Fn::Equals":
        left, right = (value_of(argument) for argument in arguments)
        return left == right
    if function == "Fn::Not":
        return not holds(arguments[0], value_of, defined)
    if function == "Fn::And":
        return all(holds(argument, value_of, defined) for argument in arguments)
    if function == "Fn::Or":
        return any(holds(argument, value_of, defined) for argument in arguments)
    raise AssertionError(f"unexpected condition function {function}")


def _value(argument: Any, values: dict[str, str]) -> str:
    if isinstance(argument, dict):
        if set(argument) != {"Ref"}:
            raise AssertionError(f"unexpected value in a condition: {argument}")
        if argument["Ref"].startswith("AWS::"):
            raise _Unknown(argument["Ref"])
        return values[argument["Ref"]]
    return str(argument)


def main(argv: list[str]) -> int:
    # The translator warns about feature toggles it looks up; they mean nothing here.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    from samtranslator.yaml_helper import yaml_parse

    [directory] = [Path(argument) for argument in argv]
    source = yaml_parse((ROOT / "template.yaml").read_text())
    directory.mkdir(parents=True, exist_ok=True)
    for name, parameters in combinations().items():
        # CodeUri stays relative to the project: sam validate reads it from the template's folder.
        instance = instantiate(source, parameters)
        for resource in instance["Resources"].values():
            if "CodeUri" in resource.get("Properties", {}):
                resource["Properties"]["CodeUri"] = str(ROOT / resource["Properties"]["CodeUri"])
        (directory / f"{name}.json").write_text(json.dumps(instance, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
