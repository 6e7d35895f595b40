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
The `darp` command: one entry point, one subcommand per module of darp_ros.cli.

A user error (a DarpError or a missing file) prints `darp <cmd>: error: <message>` and
returns 2; anything else is a bug and keeps its traceback.
"""

import argparse
import logging
import sys
from typing import Optional, Sequence

from darp_ros import __version__
from darp_ros.cli import (bag2hdf5, bag_eval, bench, benchmark, collect, diagnose,
                          eval as evaluate, info, pretrain_encoder, sim, train, tune)
from darp_ros.core.errors import DarpError

COMMANDS = (collect, pretrain_encoder, train, tune, evaluate, diagnose, sim, benchmark, bench,
            bag_eval, bag2hdf5, info)
LOG_FORMAT = '%(levelname)s %(name)s: %(message)s'


class _StderrHandler(logging.StreamHandler):
    """Writes to the sys.stderr of the moment, so redirections made after setup apply."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def add_verbosity(parser: argparse.ArgumentParser, default=argparse.SUPPRESS) -> None:
    """Add -v/--verbose (DEBUG) and -q/--quiet (WARNING) to parser."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument('-v', '--verbose', dest='log_level', action='store_const',
                       const=logging.DEBUG, default=default, help='log debug messages')
    group.add_argument('-q', '--quiet', dest='log_level', action='store_const',
                       const=logging.WARNING, default=default, help='log warnings only')


def build_parser() -> argparse.ArgumentParser:
    """Return the `darp` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog='darp', description='Train and inspect Difference-Aware Retrieval Policies.')
    parser.add_argument('--version', action='version', version=f'darp_ros {__version__}')
    add_verbosity(parser, default=logging.INFO)
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)
    for command in COMMANDS:
        # SUPPRESS keeps a -v given before the subcommand from being reset after it.
        add_verbosity(command.add_parser(subparsers))
    return parser


def configure_logging(level: int) -> None:
    """Send darp_ros log records at level and above to stderr in a short format."""
    logger = logging.getLogger('darp_ros')
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler):
            logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the `darp` command line; return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # --help, --version and usage errors: argparse has printed what it had to say.
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    configure_logging(args.log_level)
    try:
        return args.run(args)
    except (DarpError, FileNotFoundError) as exc:
        print(f'darp {args.command}: error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
