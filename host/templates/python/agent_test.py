"""Unit tests of the `{{name}}` agent's logic: `python3 -m unittest` in this directory."""

import unittest

import logic


class AnswerTest(unittest.TestCase):
    def test_answers_with_the_text(self):
        self.assertEqual(logic.answer("hi", 2), "You said: hi (2 earlier turns)")


if __name__ == "__main__":
    unittest.main()
