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
Which trial a study hands on as its recipe: its best, or its best finalist.

A trial's score is one noisy measurement, and the study's best is the maximum of many: on
robosuite's success rates over 20 episodes it overstates what the recipe then reports by
ten points and more. With finalists, the best few candidates (the trials within the
budget, and the defaults trial where the study has one) are trained again (the trial's own
seed gives the same model; further training seeds where asked) and scored on fresh tuning
episodes that played no part in choosing them; the recipe is the finalist whose mean does
best there.
"""

import logging
import time
from typing import Dict, List, Optional, Sequence

from darp_ros.core.errors import ConfigError
from darp_ros.core.recipe import Recipe
from darp_ros.sim.defaults_trial import defaults_trial
from darp_ros.sim.selection import closed_loop_scorer
from darp_ros.sim.time_limit import TimeLimit
from darp_ros.sim.tuning import train_recipe, TuneOptions, within_budget

logger = logging.getLogger(__name__)


def candidates(study, options: TuneOptions) -> list:
    """Return the trials the recipe is chosen from: the budget's, and the defaults trial."""
    counted = within_budget(study, options.trials)
    extra = defaults_trial(study) if options.defaults_trial else None
    return sorted(counted + ([extra] if extra else []), key=lambda t: t.number)


def pending_candidates(study, options: TuneOptions) -> List[str]:
    """
    Name the candidates still missing: drawn trials short of the budget, the defaults trial.

    Another worker is still running them; a recipe chosen now could miss the best one.
    """
    pending = []
    if len(within_budget(study, options.trials)) < options.trials:
        pending.append(f'{options.trials} finished trials')
    if options.defaults_trial and defaults_trial(study) is None:
        pending.append('the defaults trial')
    return pending


def finalists_of(study, options: TuneOptions) -> list:
    """Return the best options.finalists candidates, best first (ties: the earlier trial)."""
    return sorted(candidates(study, options), key=lambda t: -t.value)[:options.finalists]


def _attr_name(options: TuneOptions, what: str = 'confirmed') -> str:
    # Scores on other episodes do not compare: each set of confirming seeds has its own.
    first, episodes = options.confirm_seeds
    return f'{what}_{first}_{episodes}'


def _key(options: TuneOptions, number: int, seed: int) -> str:
    # The trials' own training seed keeps the bare trial number (the key of studies
    # confirmed on one seed): asked for more seeds, such a study trains only the others.
    return str(number) if seed == options.train_seed else f'{number}@{seed}'


def _stored(study, options: TuneOptions, what: str = 'confirmed') -> dict:
    # One read of the study's record (scores or claims) for these confirming seeds.
    return study.user_attrs.get(_attr_name(options, what), {})


def seed_scores(stored: dict, options: TuneOptions, number: int) -> List[float]:
    """Return trial number's confirming scores so far, one per finalist training seed."""
    keys = [_key(options, number, seed) for seed in options.finalist_train_seeds]
    return [float(stored[key]) for key in keys if key in stored]


def confirmed_scores(stored: dict, options: TuneOptions, finalists: list) -> Dict[int, float]:
    """Return {trial number: mean confirming score} of the finalists scored on every seed."""
    seeds = len(options.finalist_train_seeds)
    scores = {t.number: seed_scores(stored, options, t.number) for t in finalists}
    return {number: sum(each) / seeds for number, each in scores.items() if len(each) == seeds}


# How often a worker looks whether another worker's finalist is done.
POLL_SECONDS = 30.0


def _claimed(claims: dict, trial, key: str) -> bool:
    # A claim lapses after twice the time its trial took to train and score, and ten
    # minutes more: the worker that made it has died, and another takes the finalist over.
    since = claims.get(key)
    lapse = 2 * trial.user_attrs.get('seconds', 3600.0) + 600.0
    return since is not None and time.time() - since < lapse


def _store(study, options: TuneOptions, what: str, key: str, value: float) -> None:
    # Read again just before writing: another worker may have stored one meanwhile.
    study.set_user_attr(_attr_name(options, what), {**_stored(study, options, what), key: value})


def confirm_finalists(study, options: TuneOptions, episodes: Sequence, env_args: dict,
                      limit: Optional[TimeLimit] = None) -> Dict[int, float]:
    """
    Train each finalist not yet confirmed again and score it on the confirming seeds.

    A finalist is trained once per finalist training seed (options.confirm_train_seeds);
    its confirming score is the mean over them. Workers share these trainings as they
    share trials: each claims the next free one, and waits at the end for those another
    worker is running. Each score is stored in the study as soon as it is known, so a
    stopped run resumes with the ones still missing. Returns every finalist's confirming
    score, or only those known when limit refuses the next training (expected to take as
    long as its trial did) or the wait.
    """
    first, count = options.confirm_seeds
    select = closed_loop_scorer(env_args, options.tune_seed, options.tune_episodes,
                                options.horizon)
    confirm = closed_loop_scorer(env_args, first, count, options.horizon)
    limit = limit or TimeLimit()
    while True:
        stored, claims = _stored(study, options), _stored(study, options, 'claims')
        finalists = finalists_of(study, options)
        known = confirmed_scores(stored, options, finalists)
        todo = [(t, seed, _key(options, t.number, seed))
                for t in finalists for seed in options.finalist_train_seeds]
        todo = [(t, seed, key) for t, seed, key in todo if key not in stored]
        free = [(t, seed, key) for t, seed, key in todo if not _claimed(claims, t, key)]
        expected = free[0][0].user_attrs.get('seconds', 0.0) if free else POLL_SECONDS
        if not todo or not limit.allows(expected):
            return known
        if not free:
            time.sleep(POLL_SECONDS)
            continue
        trial, seed, key = free[0]
        _store(study, options, 'claims', key, time.time())
        recipe = Recipe.load_dict(trial.user_attrs['recipe'])
        model = train_recipe(recipe, options, episodes, env_args, select, seed)
        score = float(confirm(model))
        logger.info('finalist trial %d: %.4g, confirmed %.4g with training seed %d on %d '
                    'episodes from seed %d', trial.number, trial.value, score, seed, count,
                    first)
        _store(study, options, 'confirmed', key, score)


def best_recipe(study, options: TuneOptions) -> Recipe:
    """Return the study's recipe within the budget (options.trials), with its source."""
    counted = within_budget(study, options.trials)
    if not counted:
        raise ConfigError(f'study {study.study_name}: no trial finished')
    pool = candidates(study, options)
    best = max(pool, key=lambda t: t.value)
    first, episodes = options.score_seeds
    source = {'study': study.study_name, 'trial': best.number, 'score': best.value,
              'tune_seeds': [first, first + episodes - 1],
              'train_seed': options.train_seed,
              'trials': len(counted)}
    if len(pool) > len(counted):
        source['defaults_trial'] = defaults_trial(study).number
    if options.finalists:
        finalists, stored = finalists_of(study, options), _stored(study, options)
        scores = confirmed_scores(stored, options, finalists)
        missing = [t.number for t in finalists if t.number not in scores]
        if missing:
            raise ConfigError(f'study {study.study_name}: finalist trials {missing} are not '
                              'scored on the confirming episodes yet; run darp tune with '
                              '--finalists again')
        # max keeps the first of equal scores: ties go to the better trial score.
        best = max(finalists, key=lambda t: scores[t.number])
        first, episodes = options.confirm_seeds
        source.update(trial=best.number, score=best.value, confirmed=scores[best.number],
                      confirm_seeds=[first, first + episodes - 1],
                      finalists=[[t.number, t.value, scores[t.number]] for t in finalists])
        seeds = options.finalist_train_seeds
        if len(seeds) > 1:
            source.update(confirm_train_seeds=list(seeds),
                          confirmed_by_seed={str(t.number): seed_scores(stored, options, t.number)
                                             for t in finalists})
    recipe = Recipe.load_dict(best.user_attrs['recipe'])
    return Recipe(recipe.policy, recipe.policy_config, recipe.train, source)
