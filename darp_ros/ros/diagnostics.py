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


"""The policy node's /diagnostics message: input rates and ages, latency, faults."""

from typing import Dict, Mapping

from darp_ros.ros.cycle_stats import CycleStats
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue


def _kv(key: str, value) -> KeyValue:
    if isinstance(value, float):
        value = f'{value:.4g}'
    return KeyValue(key=key, value=str(value))


def diagnostics_message(stamp, name: str, hardware_id: str, active: bool, faulted: bool,
                        stats: CycleStats, rates_hz: Mapping[str, float],
                        ages_s: Mapping[str, float], extra: Dict[str, object],
                        holding: bool = True) -> DiagnosticArray:
    """Return one DiagnosticArray describing the node's current state."""
    if not active:
        level, message = DiagnosticStatus.OK, 'inactive'
    elif faulted:
        # Holding streams stop commands; after hold_timeout_s (or silent) nothing is sent.
        doing = 'holding' if holding else 'not commanding'
        level, message = DiagnosticStatus.WARN, f'{doing}: {stats.last_fault}'
    else:
        level, message = DiagnosticStatus.OK, 'commanding'
    values = [_kv('cycles', stats.cycles), _kv('commands', stats.commands),
              _kv('holds', stats.holds), _kv('overruns', stats.overruns),
              _kv('missed_cycles', stats.missed_cycles),
              _kv('safety_interventions', stats.interventions),
              _kv('inference_p50_ms', stats.latency_ms(0.5)),
              _kv('inference_p99_ms', stats.latency_ms(0.99)),
              _kv('last_fault', stats.last_fault)]
    for reason, count in sorted(stats.interventions_by_limit.items()):
        values.append(_kv(f'safety {reason}', count))
    for topic, rate in sorted(rates_hz.items()):
        values.append(_kv(f'rate_hz {topic}', float(rate)))
    for topic, age in sorted(ages_s.items()):
        values.append(_kv(f'age_s {topic}', float(age)))
    values.extend(_kv(k, v) for k, v in extra.items())
    status = DiagnosticStatus(level=level, name=name, message=message,
                              hardware_id=hardware_id, values=values)
    msg = DiagnosticArray(status=[status])
    msg.header.stamp = stamp
    return msg
