from __future__ import annotations

import pytest

from search.errors import QueryError
from search.query import Term, parse_query, to_fts5


def test_words_phrases_exclusions_and_or():
    parsed = parse_query('пытки "prison service" -denial leak OR lekkasje')
    assert parsed.groups == [
        [Term("пытки")], [Term("prison service", phrase=True)], [Term("leak"), Term("lekkasje")]
    ]
    assert parsed.excluded == [Term("denial")]


def test_fts5_expression_quotes_every_term():
    expression = to_fts5(parse_query('a OR b "c d" -e'))
    assert expression == '(("a" OR "b") AND "c d") NOT "e"'


def test_fts5_syntax_in_user_text_is_inert():
    expression = to_fts5(parse_query('NEAR(a b) title:x * "'))
    assert "NEAR(" not in expression and ":" not in expression


@pytest.mark.parametrize("text", ["", "   ", "-only", '-"only this"', "*** ---"])
def test_nothing_searchable_is_a_user_error(text: str):
    with pytest.raises(QueryError):
        parse_query(text)
