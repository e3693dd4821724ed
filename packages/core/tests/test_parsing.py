import pytest

from haliax._src.base.errors import PatternError
from haliax._src.ops.parsing import AxisCapture, _parse_quoted_string, parse_einsum, parse_rearrangement


def _show(expr):
    """A side as plain values: a name, a tuple for '(a b)', a {binding: parts} dict, or '...'."""
    out = []
    for c in expr.captures:
        if c is Ellipsis:
            out.append(...)
        elif not c.is_group:
            out.append(c.binding)
        elif c.binding is None:
            out.append(c.axes)
        else:
            out.append({c.binding: c.axes})
    return out


def test_rearrangement_sides_and_groups():
    lhs, rhs = parse_rearrangement("a (b c) ... -> (m: a b) c ...")
    assert lhs.is_ordered and rhs.is_ordered
    assert _show(lhs) == ["a", ("b", "c"), ...]
    assert _show(rhs) == [{"m": ("a", "b")}, "c", ...]
    assert lhs.captures[1] == AxisCapture(None, ("b", "c"), (2, 7))


def test_unordered_side_takes_commas_as_separators():
    lhs, _ = parse_rearrangement("{a, (h: x y) ...} -> x")
    assert not lhs.is_ordered
    assert _show(lhs) == ["a", {"h": ("x", "y")}, ...]


def test_quoted_names():
    lhs, _ = parse_rearrangement("a \"b c\" 'd\\'e' -> a")
    assert _show(lhs) == ["a", "b c", "d'e"]
    assert _parse_quoted_string("x 'q r' y", 2) == ("q r", 7)


def test_einsum_sides():
    lhses, rhs = parse_einsum("a b, b c -> a c")
    assert [_show(e) for e in lhses] == [["a", "b"], ["b", "c"]]
    assert _show(rhs) == ["a", "c"]
    lhses, rhs = parse_einsum("-> batch")
    assert len(lhses) == 1 and lhses[0].captures == () and lhses[0].is_ordered


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (
            "a b",
            "rearrange: in 'a b' at column 4: Unexpected end of string: expected '->' between the input and output sides",
        ),
        ("{ a -> c", "rearrange: in '{ a -> c' at column 1: Expected } to close the '{' here"),
        ("a } -> c", "rearrange: in 'a } -> c' at column 3: Unexpected } without a matching '{'"),
        ("(a: b } -> c", "rearrange: in '(a: b } -> c' at column 7: Unexpected } inside '( )'"),
        ("(a b ! -> c", "rearrange: in '(a b ! -> c' at column 6: Unexpected character '!' inside '( )'"),
        (
            "a b ! -> c",
            "rearrange: in 'a b ! -> c' at column 5: Identifier expected, found unexpected character '!'",
        ),
        (
            "a 1b -> a",
            "rearrange: in 'a 1b -> a' at column 3: Identifiers cannot start with a number: '1b'; quote it or rename it",
        ),
        (
            "a '' -> a",
            "rearrange: in \"a '' -> a\" at column 3: Empty strings are not valid identifiers; write a name between the quotes",
        ),
        (
            "(a b: c) -> a",
            "rearrange: in '(a b: c) -> a' at column 5: Binding must come before the axes, as in '(name: a b)'",
        ),
        (
            "((a)) -> a",
            "rearrange: in '((a)) -> a' at column 2: Only one level of nesting is allowed: '(' inside '( )'",
        ),
        (
            "a -> b, c",
            "rearrange: in 'a -> b, c' at column 7: Unexpected character ',' after the output side",
        ),
    ],
)
def test_parse_errors_name_the_column(pattern, message):
    with pytest.raises(PatternError) as e:
        parse_rearrangement(pattern)
    assert str(e.value) == message
