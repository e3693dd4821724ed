import re

import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.testing as ht
from haliax.errors import AxisNotFoundError, NamedTypeError


def _x():
    return hax.named(jnp.arange(6.0).reshape(2, 3), ("batch", "embed"))


def test_assert_named_allclose_ignores_axis_order():
    x = _x()
    ht.assert_named_allclose(x, hax.named(x.array.T, ("embed", "batch")))


def test_assert_named_allclose_accepts_values_within_tolerance():
    x = _x()
    ht.assert_named_allclose(x, x + 1e-3, rtol=0, atol=1e-2)


def test_assert_named_allclose_reports_the_worst_element_by_axis_name():
    x = _x()
    expected = hax.named(x.array.T.at[2, 1].set(100.0).at[0, 0].set(0.5), ("embed", "batch"))
    message = (
        "assert_named_allclose: 2 of 6 elements differ beyond rtol=1e-05, atol=1e-08 (axes {batch: 2, embed: 3})\n"
        "  worst at {batch: 1, embed: 2}: actual 5.0, expected 100.0, abs diff 95.0"
    )
    with pytest.raises(AssertionError, match=re.escape(message)):
        ht.assert_named_allclose(x, expected)


def test_assert_named_allclose_reports_axes_that_differ_in_name_or_size():
    x = _x()
    other = hax.named(jnp.zeros((4, 2)), ("pos", "batch"))
    message = (
        "assert_named_allclose: axes differ: actual {batch: 2, embed: 3}, expected {pos: 4, batch: 2}\n"
        "  axis 'pos' (size 4) is missing from actual\n"
        "  axis 'embed' (size 3) is in actual but not in expected"
    )
    with pytest.raises(AssertionError, match=re.escape(message)):
        ht.assert_named_allclose(x, other)
    resized = hax.named(jnp.zeros((2, 4)), ("batch", "embed"))
    with pytest.raises(
        AssertionError, match=re.escape("  axis 'embed' has size 3 in actual but 4 in expected")
    ):
        ht.assert_named_allclose(x, resized)


def test_assert_named_allclose_reads_an_unnamed_expected_in_actual_order():
    x = _x()
    ht.assert_named_allclose(x, np.arange(6.0).reshape(2, 3))
    ht.assert_named_allclose(hax.named(jnp.full((2,), 3), ("a",)), 3)
    with pytest.raises(
        AssertionError,
        match=re.escape(
            "assert_named_allclose: actual {batch: 2, embed: 3} has shape (2, 3) but the unnamed expected array has shape (3, 2)"
        ),
    ):
        ht.assert_named_allclose(x, np.zeros((3, 2)))


def test_assert_named_allclose_treats_nan_as_worst_and_equal_nan_as_option():
    x = hax.named(jnp.array([1.0, jnp.nan, 3.0]), ("a",))
    ht.assert_named_allclose(x, x)
    with pytest.raises(AssertionError, match=re.escape("worst at {a: 1}: actual nan, expected nan")):
        ht.assert_named_allclose(x, x, equal_nan=False)
    y = hax.named(jnp.array([1.5, 2.0, 3.0]), ("a",))
    with pytest.raises(AssertionError, match=re.escape("1 of 3 elements differ")):
        ht.assert_named_allclose(y, hax.named(jnp.array([1.5, 2.0, jnp.nan]), ("a",)))


def test_assert_named_allclose_on_scalars_bools_and_bfloat16():
    ht.assert_named_allclose(hax.named(jnp.float32(2.0), ()), 2.0)
    with pytest.raises(AssertionError, match=re.escape("worst at the scalar: actual 2.0, expected 3.0")):
        ht.assert_named_allclose(hax.named(jnp.float32(2.0), ()), 3.0)
    b = hax.named(jnp.array([True, False]), ("a",))
    with pytest.raises(AssertionError, match=re.escape("worst at {a: 1}: actual 0.0, expected 1.0")):
        ht.assert_named_allclose(b, np.array([True, True]))
    h = hax.named(jnp.ones((2,), jnp.bfloat16), ("a",))
    ht.assert_named_allclose(h, hax.named(jnp.ones((2,), jnp.float32), ("a",)))


def test_assert_named_allclose_requires_a_named_actual():
    with pytest.raises(
        TypeError, match=re.escape("assert_named_allclose: `actual` must be a NamedArray, got ndarray")
    ):
        ht.assert_named_allclose(np.zeros(2), np.zeros(2))


def test_assert_axes_equal_accepts_arrays_axis_tuples_and_dicts():
    x = _x()
    ht.assert_axes_equal(x, hax.make_axes(batch=2, embed=3))
    ht.assert_axes_equal({"batch": 2, "embed": 3}, x)
    ht.assert_axes_equal(x, {"embed": 3, "batch": 2}, ignore_order=True)


def test_assert_axes_equal_reports_order_and_per_axis_differences():
    x = _x()
    with pytest.raises(
        AssertionError,
        match=re.escape(
            "assert_axes_equal: axes differ: actual {batch: 2, embed: 3}, expected {embed: 3, batch: 2}\n"
            "  same axes, different order: ['batch', 'embed'] vs ['embed', 'batch']"
        ),
    ):
        ht.assert_axes_equal(x, {"embed": 3, "batch": 2})
    with pytest.raises(
        AssertionError,
        match=re.escape(
            "  axis 'batch' has size 2 in actual but 5 in expected\n  axis 'head' (size 1) is missing from actual"
        ),
    ):
        ht.assert_axes_equal(x, {"batch": 5, "embed": 3, "head": 1})


def test_assert_axes_equal_rejects_other_types():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "assert_axes_equal: expected a NamedArray, a sequence of Axis or a {name: size} dict, got int"
        ),
    ):
        ht.assert_axes_equal(_x(), 3)  # pyright: ignore[reportArgumentType]  # wrong type on purpose: pins the runtime error


# ----- assert_clear_error -----
def _raise(e: BaseException) -> None:
    raise e


def test_assert_clear_error_accepts_a_clear_error_and_returns_it() -> None:
    from haliax.errors import AxisNotFoundError
    from haliax.testing import assert_clear_error

    x = hax.zeros({"batch": 2, "embed": 3})
    err = assert_clear_error(lambda: hax.sum(x, "embd"), AxisNotFoundError, op="sum", mentions=["'embd'"])
    assert "did you mean 'embed'" in str(err)


@pytest.mark.parametrize(
    ("error", "op", "mentions", "forbidden", "complaint"),
    [
        (KeyError("sum: axis 'a' not found"), "sum", (), (), "got KeyError"),
        (AxisNotFoundError("mean: axis 'a' not found"), "sum", (), (), "does not start with the op name"),
        (AxisNotFoundError("sum: axis 'a' not found"), "sum", ("'b'",), (), "does not mention"),
        (AxisNotFoundError("sum: got Array([1, 2, 3])"), "sum", (), (), "shows array values"),
        (AxisNotFoundError("sum: value 7.25 is bad"), "sum", (), ("7.25",), "shows array values"),
        (NamedTypeError("sum: axis 'a' not found"), "sum", (), (), "expected AxisNotFoundError"),
    ],
)
def test_assert_clear_error_rejects_unclear_errors(error, op, mentions, forbidden, complaint) -> None:
    from haliax.testing import assert_clear_error

    with pytest.raises(AssertionError, match=complaint):
        assert_clear_error(
            lambda: _raise(error), AxisNotFoundError, op=op, mentions=mentions, forbidden=forbidden
        )


def test_assert_clear_error_rejects_a_call_that_succeeds() -> None:
    from haliax.testing import assert_clear_error

    with pytest.raises(AssertionError, match="returned normally"):
        assert_clear_error(lambda: None, ValueError, op="sum")


def test_assert_clear_error_rejects_a_builtin_error_of_the_right_class() -> None:
    from haliax.testing import assert_clear_error

    with pytest.raises(AssertionError, match="not a haliax error"):
        assert_clear_error(lambda: _raise(ValueError("sum: bad")), ValueError, op="sum")


def test_error_case_runs_in_its_context_and_checks_the_builtin() -> None:
    import contextlib

    from haliax.testing import ErrorCase

    entered: list[bool] = []

    @contextlib.contextmanager
    def ctx():
        entered.append(True)
        yield

    x = hax.zeros({"batch": 2})
    case = ErrorCase(
        "typo", lambda: hax.sum(x, "btach"), AxisNotFoundError, "sum", ["'btach'"], ctx, ValueError
    )
    assert isinstance(case.check(), AxisNotFoundError) and entered == [True]
    wrong_builtin = ErrorCase(
        "typo", lambda: hax.sum(x, "btach"), AxisNotFoundError, "sum", builtin=TypeError
    )
    with pytest.raises(AssertionError, match="is not a TypeError"):
        wrong_builtin.check()
