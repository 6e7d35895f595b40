# darp_ros: one-command setup and tests. See README.md.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.darp_ros-setup

.PHONY: setup test lint demo clean

setup: $(STAMP)

# Re-runs only when the pins or the package metadata change, so a second `make setup` is instant.
$(STAMP): .ci/requirements.txt .ci/setup.sh setup.py setup.cfg package.xml
	VENV=$(VENV) bash .ci/setup.sh
	touch $@

test: setup
	$(PYTHON) -m pytest -q

lint: setup
	$(PYTHON) -m pytest -q test/test_flake8.py test/test_pep257.py test/test_copyright.py

# The closed loop through ROS 2 in robosuite: the robosuite bridge and the policy node over
# DDS (one process), the shipped Lift bundle, five episodes, lockstep. About a minute on 2 CPUs.
demo: setup
	$(VENV)/bin/darp sim --model models/lift_darp --episodes 5 --seed 100000

clean:
	rm -rf $(VENV) build install log *.egg-info .pytest_cache
