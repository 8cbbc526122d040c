"""pytest configuration for every run in this repository.

`pytest --nbval chapters/...` compares re-executed notebooks with their saved
outputs; tests/nbval_approx.py lets a cell compare the numbers that differ
between machines (training results) within a tolerance it declares. Loading it
here means that every nbval run over the chapters uses it, by `make` or by hand.
"""

pytest_plugins = ["tests.nbval_approx"]
