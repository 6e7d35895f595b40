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

"""Error types that name what is wrong, so callers never see a bare library traceback."""


class DarpError(Exception):
    """Base class of every error darp_ros raises on purpose."""


class ConfigError(DarpError, ValueError):
    """A configuration value is out of range or of the wrong kind."""


class DatasetError(DarpError, ValueError):
    """A demonstration file is malformed; the message names the demo and key."""


class BundleError(DarpError):
    """A model bundle is missing a file, has wrong shapes, or is of an unknown version."""


class ObservationError(DarpError, ValueError):
    """A runtime observation is missing a key, has a wrong shape, or holds NaN/Inf."""


class EncoderError(DarpError, ValueError):
    """Encoder weights or images are unreadable, of an unknown layout, or of the wrong shape."""
