"""Unit tests of the `{{name}}` scanner's logic: `python3 -m unittest` in this directory."""

import unittest

import logic


class FindTest(unittest.TestCase):
    def test_finds_secrets_only(self):
        self.assertEqual(logic.find("db password=hunter2"), [("password", "password=")])
        self.assertEqual(logic.find("what is a password?"), [])


if __name__ == "__main__":
    unittest.main()
