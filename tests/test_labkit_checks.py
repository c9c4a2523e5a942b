"""labkit.checks says what was checked and what came out; labkit.numerics gives bounds that hold."""
import numpy as np
import pytest

from labkit.checks import check_array, check_close, check_equal, check_raises, check_type
from labkit.numerics import gamma, unit_roundoff


def message(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as caught:
        check(*args, **kwargs)
    return str(caught.value)


def test_check_close_reports_error_tolerance_and_what():
    got = message(check_close, [1.0, 2.0 + 8.8e-6], [1.0, 2.0], atol=1e-6, what="logits near 100")
    assert got.startswith("max error 8.8e-06 against tolerance 1e-06 for logits near 100")
    assert "(expected [1.0, 2.0], got [1.0, 2.0000088])" in got


def test_check_close_relative_tolerance_scales_with_the_expected_value():
    check_close(1000.5, 1000.0, rtol=1e-3)
    got = message(check_close, 1.5, 1.0, rtol=1e-3, what="x")
    assert "max error 0.5 against tolerance 0.001 for x" in got


def test_check_close_hides_expected_values_in_hidden_tests():
    got = message(check_close, 3.0, 2.0, atol=0.1, what="the ratio", show_values=False)
    assert got == "max error 1 against tolerance 0.1 for the ratio"


@pytest.mark.parametrize("actual, expected, fragment", [
    ([1.0, 2.0], [1.0, 2.0, 3.0], "has shape (2,), expected (3,)"),
    ([1.0, np.nan], [1.0, 2.0], "NaN where a number is expected"),
    ("fast", 1.0, "expected numbers for the result, got str"),
])
def test_check_close_refuses_wrong_shapes_nans_and_non_numbers(actual, expected, fragment):
    assert fragment in message(check_close, actual, expected, atol=1.0)


def test_check_close_accepts_matching_nans_and_infinities():
    check_close([np.nan, np.inf, 1.0], [np.nan, np.inf, 1.0 + 1e-12], atol=1e-9)
    assert "max error inf" in message(check_close, [np.inf], [1.0], atol=1.0)
    assert "max error inf" in message(check_close, [-np.inf], [np.inf], rtol=1.0)


def test_check_equal():
    check_equal(np.arange(3), np.array([0, 1, 2]))
    assert message(check_equal, 3, 4, what="lane count") == "wrong lane count: expected 4, got 3"
    assert message(check_equal, 3, 4, what="lane count", show_values=False) == "wrong lane count: got 3"
    assert "wrong the result" in message(check_equal, np.arange(3), np.arange(4))


def test_check_type_does_not_take_a_bool_for_a_number():
    check_type(3, int)
    check_type(True, (bool, int))
    assert message(check_type, True, int, what="lanes") == "expected int for lanes, got bool (True)"
    assert message(check_type, 4.0, (int, np.integer)) == "expected int or integer for the result, got float (4.0)"


def test_check_array_checks_kind_shape_and_dtype():
    check_array(np.zeros((2, 3), np.float32), shape=(None, 3), dtype="float32")
    assert message(check_array, [1, 2], what="times") == "expected a numpy array for times, got list"
    assert message(check_array, np.zeros(4), shape=(None, 3)) == "the result has shape (4,), expected (any, 3)"
    assert message(check_array, np.zeros(3), dtype=np.float32) == "the result has dtype float64, expected float32"


def test_check_raises_returns_the_error_and_reports_what_happened_instead():
    error = check_raises(ValueError, lambda: int("x"), what="int('x')")
    assert "invalid literal" in str(error)
    assert message(check_raises, ValueError, lambda: 7, what="repeats=0") == \
        "expected ValueError for repeats=0, but it returned 7"
    assert message(check_raises, ValueError, lambda: 7, what="n", show_values=False).endswith("returned a value")
    assert message(check_raises, (ValueError, TypeError), lambda: 1 / 0, what="n") == \
        "expected ValueError or TypeError for n, but it raised ZeroDivisionError: division by zero"
    assert message(check_raises, ValueError, lambda: [][0:0] or next(iter(())), what="n") == \
        "expected ValueError for n, but it raised StopIteration"  # no ': ' after an exception without a message


def test_unit_roundoff_is_half_the_gap_above_one():
    for dtype, bits in [(np.float16, 11), (np.float32, 24), (np.float64, 53)]:
        u = unit_roundoff(dtype)
        assert u == 2.0 ** -bits
        one = np.array(1, dtype)
        assert one + np.array(u / 2, dtype) == one and one + np.array(2 * u, dtype) > one
    with pytest.raises(ValueError, match="floating-point"):
        unit_roundoff(np.int32)


def test_gamma_bounds_the_error_of_a_float32_sum():
    """Higham's bound for recursive summation: |fl(sum) - sum| <= gamma_{n-1} * sum |x_i|."""
    rng = np.random.default_rng(0)
    for n in (10, 200, 2000):
        x = rng.uniform(0, 1, n).astype(np.float32)  # same signs: the bound is nearly attained in order
        total = np.float32(0)
        for value in x:  # recursive (left-to-right) float32 summation, as the bound assumes
            total = np.float32(total + value)
        exact = float(np.sum(x, dtype=np.float64))
        assert abs(float(total) - exact) <= gamma(n - 1, np.float32) * float(np.abs(x).sum())


def test_gamma_refuses_meaningless_n():
    assert gamma(0, "float64") == 0.0
    with pytest.raises(ValueError, match="unbounded"):
        gamma(2 ** 24, np.float32)
    with pytest.raises(ValueError, match="whole number"):
        gamma(-1, np.float32)
