"""Unit tests of the `{{name}}` tool's logic: `python3 -m unittest` in this directory."""

import unittest

import logic


class CountTest(unittest.TestCase):
    def test_counts_words_and_characters(self):
        self.assertEqual(logic.count("hello wide  world"), {"words": 3, "characters": 17})
        self.assertEqual(logic.count("grüße"), {"words": 1, "characters": 5})

    def test_bad_arguments_raise(self):
        with self.assertRaises(ValueError):
            logic.invoke("not json")
        with self.assertRaises(ValueError):
            logic.invoke("{}")
        self.assertEqual(logic.invoke('{"text":"a b"}'), '{"words":2,"characters":3}')


if __name__ == "__main__":
    unittest.main()
