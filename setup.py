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

"""Install darp_ros as an ament_python package (colcon) or with pip in a virtual environment."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'darp_ros'


def files(pattern):
    """Return the files, not folders, that match the glob pattern."""
    return [path for path in glob(pattern) if os.path.isfile(path)]


def tree(folder):
    """Return data_files entries installing every file under folder, sub-folders kept."""
    entries = {}
    for path in sorted(glob(os.path.join(folder, '**', '*'), recursive=True)):
        if os.path.isfile(path):
            target = os.path.join('share', PACKAGE, os.path.dirname(path))
            entries.setdefault(target, []).append(path)
    return sorted(entries.items())


setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        ('share/' + PACKAGE + '/launch', files('launch/*.launch.py')),
        ('share/' + PACKAGE + '/config', files('config/*.yaml')),
    ] + tree('models'),
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='darp_ros maintainers',
    maintainer_email='maintainers@darp-ros.invalid',
    description='Difference-Aware Retrieval Policies (DARP) for ROS 2 robot arms.',
    license='Apache-2.0',
    python_requires='>=3.10',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'darp = darp_ros.cli.main:main',
            'policy_node = darp_ros.ros.policy_node:main',
            'robosuite_bridge_node = darp_ros.ros.robosuite_bridge_node:main',
        ],
    },
)
