//! Empty: the fixture is its generated integration tests (`tests/`), written by `measure.py`.
