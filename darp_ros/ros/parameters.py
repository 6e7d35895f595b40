# Copyright 2026 The darp_ros Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.


"""Declare the policy node's parameter table with descriptors, and read it back flat."""

from typing import Iterable

from darp_ros.control.node_parameters import obs_parameters, PARAMETERS, ParameterSpec
from darp_ros.core.errors import ConfigError
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter

TYPES = {
    'bool': Parameter.Type.BOOL, 'integer': Parameter.Type.INTEGER,
    'double': Parameter.Type.DOUBLE, 'string': Parameter.Type.STRING,
    'string_array': Parameter.Type.STRING_ARRAY, 'integer_array': Parameter.Type.INTEGER_ARRAY,
    'double_array': Parameter.Type.DOUBLE_ARRAY,
}


def descriptor(spec: ParameterSpec) -> ParameterDescriptor:
    """Return the descriptor ros2 param describe shows for spec."""
    text = spec.description
    if spec.choices:
        shown = [choice or "''" for choice in spec.choices]
        text += f" (one of: {', '.join(shown)})"
    result = ParameterDescriptor(name=spec.name, type=TYPES[spec.kind].value,
                                 description=text, read_only=spec.read_only)
    # ROS ranges apply to scalars only; array elements are checked by spec.check on set.
    if spec.kind == 'double' and (spec.low is not None or spec.high is not None):
        result.floating_point_range = [FloatingPointRange(
            from_value=float(spec.low if spec.low is not None else -1e308),
            to_value=float(spec.high if spec.high is not None else 1e308))]
    elif spec.kind == 'integer' and (spec.low is not None or spec.high is not None):
        result.integer_range = [IntegerRange(
            from_value=int(spec.low if spec.low is not None else -2 ** 62),
            to_value=int(spec.high if spec.high is not None else 2 ** 62), step=1)]
    return result


def declare(node: Node, specs: Iterable[ParameterSpec]) -> None:
    """Declare every spec not yet declared; values come from overrides (YAML, launch)."""
    for spec in specs:
        if node.has_parameter(spec.name):
            continue
        default = TYPES[spec.kind] if spec.default is None else spec.default
        node.declare_parameter(spec.name, default, descriptor(spec))


def value(node: Node, name: str):
    """Return a declared parameter's value, or None where it was declared without one."""
    try:
        return node.get_parameter(name).value
    except ParameterUninitializedException:
        return None


def declare_all(node: Node) -> None:
    """Declare the table, then the per-key inputs named by observation_keys."""
    declare(node, PARAMETERS)
    # An unset list is reported at configure, with what to set.
    for key in value(node, 'observation_keys') or ():
        declare(node, obs_parameters(key))


def read_flat(node: Node) -> dict:
    """Return {name: value} of every declared parameter (None where not set)."""
    return {name: param.value for name, param in
            node.get_parameters_by_prefix('').items()}


def validate_on_set(params) -> SetParametersResult:
    """Reject values outside a parameter's choices or range, naming the parameter."""
    specs = {spec.name: spec for spec in PARAMETERS}
    for param in params:
        spec = specs.get(param.name)
        if spec is None:
            continue
        try:
            spec.check(param.value)
        except ConfigError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
    return SetParametersResult(successful=True)
