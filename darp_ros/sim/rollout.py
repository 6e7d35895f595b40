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

"""One closed-loop episode: reset to a seed, act until success or the horizon."""

from dataclasses import dataclass, field
import time
from typing import List, Optional, Sequence

from darp_ros.data.demos import Episode
from darp_ros.sim.environment import reset_with_seed
from darp_ros.sim.observations import dataset_obs, upright
import numpy as np

VIDEO_CAMERA = 'agentview'
VIDEO_SIZE = 256


@dataclass
class EpisodeResult:
    """What happened in one episode."""

    seed: int
    success: bool
    steps: int
    wall_s: float
    latencies_s: List[float] = field(default_factory=list)   # per policy step
    episode: Optional[Episode] = None      # observations and actions, when recorded
    frames: Optional[np.ndarray] = None    # (T, H, W, 3) uint8, when a video was asked for
    error: str = ''                        # why the episode could not be run

    def summary(self) -> dict:
        """Return the JSON-friendly per-episode figures."""
        out = {'seed': self.seed, 'success': self.success, 'steps': self.steps}
        if self.error:
            out['error'] = self.error
        return out


def render_frame(env, camera: str = VIDEO_CAMERA, size: int = VIDEO_SIZE) -> np.ndarray:
    """Return an upright RGB frame from camera (needs an offscreen renderer)."""
    return upright(env.sim.render(camera_name=camera, width=size, height=size))


def run_episode(env, agent, seed: int, horizon: int, cameras: Sequence[str] = (),
                record: bool = False, video: bool = False) -> EpisodeResult:
    """Run agent from the initial state of seed; stop at success or after horizon steps."""
    start = time.perf_counter()
    obs = dataset_obs(reset_with_seed(env, seed), cameras)
    agent.reset(env, seed)
    observations, actions, frames = [], [], []
    success, steps = False, 0
    while steps < horizon and not agent.gave_up:
        if video:
            frames.append(render_frame(env))
        action = agent.act(env, obs)
        if record:
            observations.append(obs)
            actions.append(action)
        raw, _, _, _ = env.step(action)
        steps += 1
        obs = dataset_obs(raw, cameras)
        if env._check_success():
            success = True
            break
    result = EpisodeResult(seed, success, steps, time.perf_counter() - start,
                           list(getattr(agent, 'latencies', ())))
    if record and observations:
        result.episode = Episode(
            f'seed_{seed}', {k: np.stack([o[k] for o in observations]) for k in observations[0]},
            np.asarray(actions, dtype=np.float64))
    if video and frames:
        result.frames = np.stack(frames)
    return result
