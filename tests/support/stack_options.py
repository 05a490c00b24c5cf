"""The template's operational options, each combination of them, and the template CloudFormation would
deploy for one combination.

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
from typing import Any

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


def instantiate(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """`template` as deployed with the parameters `given` (the others at their defaults)."""
    values = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
    values |= given
    defined = template.get("Conditions", {})
    decided: dict[str, bool] = {}
    for name in defined:
        with contextlib.suppress(_Unknown):
            decided[name] = _holds({"Condition": name}, values, defined)

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


def _holds(condition: Any, values: dict[str, str], defined: dict[str, Any]) -> bool:
    [(function, arguments)] = condition.items()
    if function == "Condition":
        return _holds(defined[arguments], values, defined)
    if function == "Fn::Equals":
        left, right = (_value(argument, values) for argument in arguments)
        return left == right
    if function == "Fn::Not":
        return not _holds(arguments[0], values, defined)
    if function == "Fn::And":
        return all(_holds(argument, values, defined) for argument in arguments)
    if function == "Fn::Or":
        return any(_holds(argument, values, defined) for argument in arguments)
    raise AssertionError(f"unexpected condition function {function}")


def _value(argument: Any, values: dict[str, str]) -> str:
    if isinstance(argument, dict):
        if set(argument) != {"Ref"}:
            raise AssertionError(f"unexpected value in a condition: {argument}")
        if argument["Ref"].startswith("AWS::"):
            raise _Unknown(argument["Ref"])
        return values[argument["Ref"]]
    return str(argument)
