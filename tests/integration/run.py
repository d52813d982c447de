#!/usr/bin/env python3
"""Runs one unittest method from one test file: run.py FILE TEST_METHOD.

ctest registers every `def test_*` of every tests/integration/test_*.py as its own case and
calls this runner. Exit codes: 0 pass, 1 fail, 77 skipped (ctest shows it as skipped).
"""
import importlib.util
import os
import sys
import unittest


def main():
    path, name = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    suite = unittest.TestSuite()
    for obj in vars(mod).values():
        if isinstance(obj, type) and issubclass(obj, unittest.TestCase) and hasattr(obj, name):
            suite.addTest(obj(name))
    if suite.countTestCases() != 1:
        print(f"expected exactly one test named {name} in {path}, found {suite.countTestCases()}")
        return 1
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if result.wasSuccessful():
        return 77 if result.skipped else 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
