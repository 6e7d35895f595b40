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

"""Write rollout frames to a video file."""

import os
from pathlib import Path

from darp_ros.core.errors import ConfigError
import numpy as np


def write_video(path, frames: np.ndarray, fps: float) -> Path:
    """Write (T, H, W, 3) RGB uint8 frames as an MP4; the file appears only when complete."""
    import cv2
    path = Path(path)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ConfigError(f'video frames must be (T, H, W, 3), found {frames.shape}')
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f'.{path.stem}.partial{path.suffix}')
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise ConfigError(f'cannot open a video writer for {path}')
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))   # OpenCV wants BGR
    finally:
        writer.release()
    os.replace(partial, path)
    return path
