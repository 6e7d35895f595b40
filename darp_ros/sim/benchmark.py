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

"""
The DARP-vs-baselines benchmark: demonstrations, training, closed-loop evaluation.

Every stage writes its output under one run directory and is skipped when that output
exists, so a long benchmark resumes where it stopped. No hyper-parameter is chosen on the
reporting seeds: policies use their documented defaults (or a recipe `darp tune` found on
the tuning seeds), the training length follows a fixed rule, and the final weights are
kept, or (keep 'closed_loop') the checkpoint that scored best on the tuning seeds, with the
same number of scored checkpoints and episodes for every trained policy. Each training seed
of a cell has its own directory, seed<S>/; nn1 trains nothing and runs the first seed only.
"""

from dataclasses import dataclass, replace
import json
import logging
import math
from pathlib import Path
import shutil
from typing import Optional, Sequence, Tuple

from darp_ros.core.bundle import save_bundle
from darp_ros.core.errors import ConfigError
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.recipe import Recipe
from darp_ros.core.training import TrainConfig
from darp_ros.data.hdf5 import inspect_demos, read_demos
from darp_ros.data.hdf5_writer import write_demos
from darp_ros.sim.collect import collect_demos
from darp_ros.sim.evaluate import EvalOptions, evaluate_bundle
from darp_ros.sim.selection import Selection
from darp_ros.sim.tasks import DEFAULT_OBS_KEYS

log = logging.getLogger(__name__)
POLICIES = ('bc', 'vinn', 'nn1', 'mcnn', 'darp')
GRADIENT_STEPS = 4000   # training length rule: about this many batches, >= MIN_EPOCHS
MIN_EPOCHS = 50
BATCH_SIZE = 64


@dataclass(frozen=True)
class BenchmarkPlan:
    """What to run; see `darp benchmark --help` for each field."""

    out: Path
    tasks: Tuple[str, ...] = ('Lift', 'Stack', 'PickPlaceCan')
    demos: Tuple[int, ...] = (10, 50)
    policies: Tuple[str, ...] = POLICIES
    episodes: int = 100
    seed: int = 100_000             # reporting seeds: seed .. seed + episodes - 1
    demo_seed: int = 0              # demonstrations come from seeds demo_seed, demo_seed+1, ...
    noise: float = 0.05
    style_diversity: float = 1.0    # scale of the expert's style ranges (1: full, 0: one style)
    shift_placement: float = 1.5    # the distribution-shift rows widen placement this much
    workers: int = 2
    recipes: Tuple[str, ...] = ()   # recipe files; each replaces its policy column's settings
    train_seeds: Tuple[int, ...] = (0,)
    selection: Optional[Selection] = None   # None keeps the final weights
    # Every column's state z-scoring floor (TrainConfig.state_scale_floor); None: as trained.
    state_scale_floor: Optional[float] = None

    def __post_init__(self):
        if not self.train_seeds or len(set(self.train_seeds)) != len(self.train_seeds):
            raise ConfigError(f'train seeds must be distinct and at least one, got '
                              f'{list(self.train_seeds)}')
        # A bad recipe fails now, not after hours of demonstrations and training.
        self.recipe_for('')

    def seeds_for(self, label: str) -> Tuple[int, ...]:
        """Return the training seeds of a policy column: nn1 learns nothing, so one."""
        return self.train_seeds[:1] if policy_variant(label)[0] == 'nn1' else self.train_seeds

    def recipe_for(self, label: str) -> Optional[Recipe]:
        """Return the recipe given for the policy column label, if any."""
        found = {}
        for path in self.recipes:
            recipe = Recipe.load(path)
            if recipe.policy not in self.policies:
                raise ConfigError(f'recipe {path} is for {recipe.policy}, which is not among '
                                  f'the benchmark policies {list(self.policies)}')
            if recipe.policy in found:
                raise ConfigError(f'two recipes for {recipe.policy}: {found[recipe.policy]} '
                                  f'and {path}')
            found[recipe.policy] = path
        return Recipe.load(found[label]) if label in found else None


def policy_variant(label: str) -> Tuple[str, dict]:
    """
    Split a column label 'POLICY[+NAME=VALUE...]' into the policy and its options.

    'darp+aggregator=set' is DARP with the set aggregator; values parse as JSON when they
    can ('k=4' is an int), else stay strings.
    """
    policy, *options = label.split('+')
    config = {}
    for option in options:
        name, sep, raw = option.partition('=')
        if not sep or not name:
            raise ConfigError(f'benchmark policy {label!r}: expected POLICY+NAME=VALUE...')
        try:
            config[name] = json.loads(raw)
        except ValueError:
            config[name] = raw
    return policy, config


def training_epochs(samples: int, batch_size: int = BATCH_SIZE) -> int:
    """Return epochs giving about GRADIENT_STEPS batches: small datasets get more epochs."""
    return max(MIN_EPOCHS, math.ceil(GRADIENT_STEPS / max(1, math.ceil(samples / batch_size))))


def dataset_path(plan: BenchmarkPlan, task: str) -> Path:
    """Return where the task's demonstrations are kept."""
    return plan.out / task / 'demos.hdf5'


def run_dir(plan: BenchmarkPlan, task: str, demos: int, policy: str, seed: int) -> Path:
    """Return the directory of one training seed of a (task, demos, policy) cell."""
    return plan.out / task / f'n{demos}' / policy / f'seed{seed}'


def ensure_demos(plan: BenchmarkPlan, task: str) -> Path:
    """Collect max(plan.demos) expert demonstrations for task unless they exist."""
    path = dataset_path(plan, task)
    record = path.parent / 'expert.json'
    if path.exists() and record.exists():
        # Records written before the knob existed were collected at the full ranges.
        kept = json.loads(record.read_text()).get('style_diversity', 1.0)
        if kept != plan.style_diversity:
            raise ConfigError(f'{path} was collected with style diversity {kept}, not '
                              f'{plan.style_diversity}: use another --out')
    if path.exists():
        # Training slices the first `demos` episodes: from a file with fewer, a cell
        # labelled n50 would silently train on what the file has (record or none).
        held, wanted = inspect_demos(path).num_demos, max(plan.demos)
        if held < wanted:
            raise ConfigError(f'{path} holds {held} demonstrations, fewer than the {wanted} '
                              'asked (--demos): use another --out (collected with the same '
                              f'seed, its first {held} demonstrations are these)')
    else:
        result = collect_demos(task, max(plan.demos), plan.demo_seed, plan.noise,
                               workers=plan.workers, progress=True,
                               style_diversity=plan.style_diversity)
        write_demos(path, result.episodes, result.env_args)
        summary = {'attempts': result.attempts, 'successes': result.successes,
                   'expert_success_rate': result.success_rate, 'noise': plan.noise,
                   'style_diversity': plan.style_diversity,
                   'seeds': [plan.demo_seed, plan.demo_seed + result.attempts - 1]}
        record.write_text(json.dumps(summary, indent=2) + '\n')
    return path


def ensure_model(plan: BenchmarkPlan, task: str, demos: int, label: str, seed: int) -> Path:
    """Train the policy labelled label on the first `demos` demonstrations, unless done."""
    bundle = run_dir(plan, task, demos, label, seed) / 'bundle'
    policy, policy_config = policy_variant(label)
    if bundle.exists():
        return bundle
    dataset = read_demos(dataset_path(plan, task), DEFAULT_OBS_KEYS)
    episodes = dataset.episodes[:demos]
    samples = sum(len(ep) for ep in episodes)
    epochs = training_epochs(samples)
    train = TrainConfig(epochs=epochs, batch_size=BATCH_SIZE, keep='last', seed=seed,
                        progress=False)
    recipe = plan.recipe_for(label)
    if recipe is not None:
        policy_config = {**policy_config, **recipe.policy_config}
        train = recipe.train_config(seed=seed, progress=False)
    if plan.state_scale_floor is not None:
        train = replace(train, state_scale_floor=plan.state_scale_floor)
    selection = plan.selection
    if selection is None and train.keep == 'closed_loop':
        selection = Selection(scored=max(1, train.epochs // train.select_every),
                              finalists=train.select_finalists)
    scorer = confirm = None
    if selection is not None:
        train = selection.train_config(train)
        scorer, confirm = selection.scorers(dataset.env_args)
    # Checkpoints chosen in the simulator need no held-out demonstrations; VINN picks its
    # k on held-out episodes whatever the selection.
    val_fraction = 0.0 if selection is not None and policy != 'vinn' else 0.2
    options = TrainOptions(
        policy=policy, obs_keys=DEFAULT_OBS_KEYS, policy_config=policy_config, train=train,
        val_fraction=val_fraction, device='cpu')
    log.info('training %s seed %d on %d %s demos (%d samples, %d epochs max)', label, seed,
             demos, task, samples, train.epochs)
    model = train_model(episodes, options, dataset.env_args, scorer, confirm)
    if selection is not None:
        model.training['selection'] = selection.record(train)
    save_bundle(model, bundle)
    # Bundles stay out of git (weights); their manifest, with the training record and the
    # checkpoint selection's scores, is kept beside the evaluations.
    shutil.copyfile(bundle / 'bundle.json', bundle.parent / 'bundle.json')
    return bundle


def ensure_eval(plan: BenchmarkPlan, bundle: Path, name: str,
                placement_scale: float = 1.0) -> dict:
    """Evaluate bundle on the reporting seeds unless name.json exists; return the figures."""
    path = bundle.parent / f'{name}.json'
    if path.exists():
        return json.loads(path.read_text())
    report = evaluate_bundle(str(bundle), EvalOptions(
        episodes=plan.episodes, seed=plan.seed, workers=plan.workers,
        placement_scale=placement_scale, progress=True))
    figures = report.to_dict()
    figures.pop('per_episode')
    figures['successful_seeds'] = [r.seed for r in report.results if r.success]
    path.write_text(json.dumps(figures, indent=2) + '\n')
    log.info('%s', report.text())
    return figures


def run_benchmark(plan: BenchmarkPlan) -> None:
    """Run every missing stage of the plan."""
    for task in plan.tasks:
        for demos in plan.demos:
            for policy in plan.policies:
                for seed in plan.seeds_for(policy):
                    cell = run_dir(plan, task, demos, policy, seed)
                    evaluations = [('eval', 1.0)]
                    if demos == max(plan.demos) and plan.shift_placement != 1:
                        evaluations.append(('eval_shift', plan.shift_placement))
                    # Finished cells (e.g. results kept without their bundles) cost nothing.
                    if all((cell / f'{name}.json').exists() for name, _ in evaluations):
                        continue
                    ensure_demos(plan, task)
                    bundle = ensure_model(plan, task, demos, policy, seed)
                    for name, scale in evaluations:
                        ensure_eval(plan, bundle, name, scale)


def collect_results(out: Path, tasks: Sequence[str]) -> list:
    """Return one row per finished evaluation under out."""
    rows = []
    for task in tasks:
        # Cells written before training seeds existed hold one seed, 0, without a seed dir.
        paths = [(path, path.parent, 0) for path in (out / task).glob('n*/*/eval*.json')]
        paths += [(path, path.parent.parent, int(path.parent.name[4:]))
                  for path in (out / task).glob('n*/*/seed*/eval*.json')]
        for path, cell, seed in sorted(paths):
            figures = json.loads(path.read_text())
            # The column is the cell's label (a variant such as 'darp+aggregator=set'),
            # not the registered policy name the evaluation recorded.
            rows.append({**figures, 'task': task, 'demos': int(cell.parent.name[1:]),
                         'policy': cell.name, 'train_seed': seed,
                         'shifted': path.stem == 'eval_shift'})
    return rows
