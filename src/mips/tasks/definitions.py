"""Declarations of the 62 benchmark tasks (TASKS.md table 1a, same row order) and their rules.

Each rule is vectorised over sequences; loops run over time only. Scalar rules take and return
(N, T) arrays (see :data:`mips.tasks.Rule`). Positions before t = 0 count as 0 throughout.
"""

from __future__ import annotations

import numpy as np

from mips.tasks import Task

# --- rules ----------------------------------------------------------------------------------------


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    """x_{t-k} along axis 1, zero for t < k."""
    out = np.zeros_like(x)
    if k < x.shape[1]:
        out[:, k:] = x[:, : x.shape[1] - k]
    return out


def _window_sum(x: np.ndarray, k: int) -> np.ndarray:
    """x_{t-k+1} + ... + x_t, zero-padded before the start."""
    c = np.cumsum(x, axis=1)
    return c - _shift(c, k)


def _addition(base: int):
    def rule(x: np.ndarray) -> np.ndarray:
        y = np.zeros(x.shape[:2], dtype=np.int64)
        carry = np.zeros(x.shape[0], dtype=np.int64)
        for t in range(x.shape[1]):
            s = x[:, t, 0] + x[:, t, 1] + carry
            y[:, t], carry = s % base, s // base  # the carry out of the last digit is dropped
        return y

    return rule


def _majority(x: np.ndarray) -> np.ndarray:
    counts = np.cumsum(x[:, :, None] == np.arange(x.max(initial=0) + 1), axis=1)
    return np.argmax(counts, axis=2)  # argmax takes the first maximum: ties -> smallest value


def _palindrome_prefix(x: np.ndarray) -> np.ndarray:
    return np.stack([np.all(x[:, : t + 1] == x[:, t::-1], axis=1) for t in range(x.shape[1])], 1)


def _balanced(x: np.ndarray) -> np.ndarray:
    balance = np.cumsum(1 - 2 * x, axis=1)  # "(" = 0 opens, ")" = 1 closes
    never_negative = np.minimum.accumulate(balance, axis=1) >= 0
    return (balance == 0) & never_negative


def _alternating(k: int):
    def rule(x: np.ndarray) -> np.ndarray:
        changes = x != _shift(x, 1)
        return _window_sum(changes.astype(np.int64), k - 1) == k - 1

    return rule


def _division(divisor: int):
    def rule(x: np.ndarray) -> np.ndarray:
        y = np.zeros_like(x)
        remainder = np.zeros(x.shape[0], dtype=np.int64)
        for t in range(x.shape[1]):
            c = 2 * remainder + x[:, t]
            if t + 1 < x.shape[1]:
                y[:, t + 1] = c // divisor  # quotient bit emitted one step late (final scripts)
            remainder = c % divisor
        return y

    return rule


def _perfect_square(x: np.ndarray) -> np.ndarray:
    root = np.round(np.sqrt(np.maximum(x, 0))).astype(np.int64)
    return (x >= 0) & (root * root == x)


def _dithering(x: np.ndarray) -> np.ndarray:
    quanta = np.cumsum(x, axis=1) // 15
    return quanta - _shift(quanta, 1)


def _newton(force):
    """Integrate a 1-D body: a_t = force(x_t, p_{t-1}), v_t = v_{t-1} + a_t, p_t = p_{t-1} + v_t."""

    def rule(x: np.ndarray) -> np.ndarray:
        y = np.zeros_like(x)
        v = np.zeros(x.shape[0], dtype=np.int64)
        p = np.zeros(x.shape[0], dtype=np.int64)
        for t in range(x.shape[1]):
            v = v + force(x[:, t], p)
            p = p + v
            y[:, t] = p
        return y

    return rule


def _newton_magnetic(x: np.ndarray) -> np.ndarray:
    y = np.zeros_like(x)
    v = np.zeros((x.shape[0], 2), dtype=np.int64)
    p = np.zeros((x.shape[0], 2), dtype=np.int64)
    for t in range(x.shape[1]):
        a = np.stack([x[:, t, 0] - v[:, 1], x[:, t, 1] + v[:, 0]], axis=1)
        v = v + a
        p = p + v
        y[:, t] = p
    return y


def _palindrome_sampler(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """Random bits whose first L bits form a palindrome, L uniform in 2..length."""
    x = rng.integers(0, 2, size=(n, length))
    if length < 2:
        return x[:, :, None]  # a single bit is already a palindrome
    size = rng.integers(2, length, size=(n, 1), endpoint=True)
    t = np.arange(length)
    # The second half of the prefix copies the mirrored first half.
    mirrored = (t < size) & (2 * t > size - 1)
    x = np.take_along_axis(x, np.where(mirrored, size - 1 - t, t), axis=1)
    return x[:, :, None]


# --- declarations ---------------------------------------------------------------------------------


def _bits(name, source, rule, summary, ex_x, ex_y, d_in=1, **kw) -> Task:
    return Task(name, d_in, 1, 0, 1, 10, rule, summary, ex_x, ex_y, source, **kw)


def _ints(name, source, low, high, rule, summary, ex_x, ex_y, length=10) -> Task:
    return Task(name, 1, 1, low, high, length, rule, summary, ex_x, ex_y, source)


def _base_addition(base: int, ex_x, ex_y) -> Task:
    return Task(
        f"Base_{base}_Addition", 2, 1, 0, base - 1, 10, _addition(base),
        f"base-{base} addition of two numbers given digit by digit, least significant first: "
        f"s_t = a_t + b_t + c_t, y_t = s_t mod {base}, c_{{t+1}} = s_t // {base}, c_0 = 0; "
        "the final carry is dropped",
        ex_x, ex_y, f"rnn_base_{base}_addition",
    )  # fmt: skip


def _sum_last(k: int, ex_x, ex_y) -> Task:
    return _ints(
        f"Sum_Last{k}", f"rnn_sum_last{k}_numerical", 0, 99, lambda x: _window_sum(x, k),
        f"y_t = x_(t-{k - 1}) + ... + x_t, x before the start = 0",
        ex_x, ex_y, length=10 if k <= 4 else 20,
    )  # fmt: skip


def _prev(k: int, ex_x, ex_y) -> Task:
    return _ints(
        f"Prev{k}", f"rnn_prev{k}_numerical", 0, 99, lambda x: _shift(x, k),
        f"y_t = x_(t-{k}); y_t = 0 for t < {k}", ex_x, ex_y, length=20 if k == 5 else 10,
    )  # fmt: skip


def _parity_last(k: int, ex_x, ex_y) -> Task:
    return _bits(
        f"Parity_Last{k}", f"rnn_parity_last{k}_numerical", lambda x: _window_sum(x, k) % 2,
        f"y_t = (x_(t-{k - 1}) + ... + x_t) mod 2, x before the start = 0", ex_x, ex_y,
    )  # fmt: skip


def _majority_task(k: int, ex_x, ex_y) -> Task:
    return _ints(
        f"Majority_0_{k}", f"rnn_majority0_{k}_numerical", 0, k, _majority,
        f"y_t = the most frequent value of 0..{k} in x_0..x_t; ties go to the smallest value",
        ex_x, ex_y,
    )  # fmt: skip


def _div(m: int, ex_x, ex_y) -> Task:
    return Task(
        f"Div_{m}", 1, 1, 0, 1, 10, _division(m),
        f"long division by {m} of a binary number read most significant bit first: r_(-1) = 0, "
        f"c_t = 2 r_(t-1) + x_t, q_t = c_t // {m}, r_t = c_t mod {m}; the quotient bit comes one "
        "step late: y_0 = 0, y_t = q_(t-1)",
        ex_x, ex_y, f"rnn_div_{m}_numerical",
    )  # fmt: skip


def _add_mod(m: int, ex_x, ex_y) -> Task:
    return Task(
        f"Add_Mod_{m}", 1, 1, 0, m - 1, 10, lambda x: np.cumsum(x, axis=1) % m,
        f"y_t = (x_0 + ... + x_t) mod {m}", ex_x, ex_y, f"rnn_add_mod_{m}_numerical",
    )  # fmt: skip


def _newton_task(name: str, source: str, force, summary: str, ex_x, ex_y) -> Task:
    return Task(name, 1, 1, -10, 10, 10, _newton(force), summary, ex_x, ex_y, source)


_SIGNED = (-100, 99)
_INTEGRATE = "v_t = v_(t-1) + a_t, p_t = p_(t-1) + v_t, y_t = p_t, zero initial state"

# fmt: off
TASKS: tuple[Task, ...] = (
    _bits("Binary_Addition", "bit_addition", _addition(2),
          "binary addition of two numbers given bit by bit, least significant first: "
          "s_t = a_t + b_t + c_t, y_t = s_t mod 2, c_(t+1) = s_t // 2, c_0 = 0; "
          "the final carry is dropped",
          [(1, 1), (1, 0), (0, 1), (1, 1)], [0, 0, 0, 1], d_in=2),
    _base_addition(3, [(2, 2), (1, 2), (0, 1), (2, 1)], [1, 1, 2, 0]),
    _base_addition(4, [(3, 1), (2, 3), (0, 3), (1, 2)], [0, 2, 0, 0]),
    _base_addition(5, [(4, 3), (3, 1), (0, 4), (2, 2)], [2, 0, 0, 0]),
    _base_addition(6, [(5, 4), (2, 3), (3, 1), (4, 5)], [3, 0, 5, 3]),
    _base_addition(7, [(6, 6), (6, 0), (1, 5), (3, 4)], [5, 0, 0, 1]),
    _bits("Bitwise_Xor", "rnn_bitwise_xor", lambda x: x[..., 0] ^ x[..., 1], "y_t = a_t XOR b_t",
          [(0, 0), (0, 1), (1, 0), (1, 1)], [0, 1, 1, 0], d_in=2),
    _bits("Bitwise_Or", "rnn_bitwise_or", lambda x: x[..., 0] | x[..., 1], "y_t = a_t OR b_t",
          [(0, 0), (0, 1), (1, 0), (1, 1)], [0, 1, 1, 1], d_in=2),
    _bits("Bitwise_And", "rnn_bitwise_and", lambda x: x[..., 0] & x[..., 1], "y_t = a_t AND b_t",
          [(0, 0), (0, 1), (1, 0), (1, 1)], [0, 0, 0, 1], d_in=2),
    _bits("Bitwise_Not", "rnn_bitwise_not", lambda x: 1 - x, "y_t = 1 - x_t",
          [1, 0, 0, 1, 0], [0, 1, 1, 0, 1]),
    _parity_last(2, [1, 1, 0, 1, 0, 0], [1, 0, 1, 1, 1, 0]),
    _parity_last(3, [1, 1, 0, 1, 0, 0, 1], [1, 0, 0, 0, 1, 1, 1]),
    _parity_last(4, [1, 1, 0, 1, 1, 0, 0], [1, 0, 0, 1, 1, 0, 0]),
    _bits("Parity_All", "rnn_parity_numerical", lambda x: np.cumsum(x, axis=1) % 2,
          "y_t = (x_0 + ... + x_t) mod 2", [1, 0, 1, 1, 0, 1], [1, 1, 0, 1, 1, 0]),
    _bits("Parity_Zeros", "rnn_parity_of_zeros_numerical",
          lambda x: np.cumsum(x == 0, axis=1) % 2,
          "y_t = (number of zeros among x_0..x_t) mod 2",
          [1, 0, 0, 1, 0, 1], [0, 1, 0, 0, 1, 1]),
    _ints("Evens_Counter", "rnn_evens_counter_numerical", 0, 9,
          lambda x: np.cumsum(x % 2 == 0, axis=1), "y_t = number of even values among x_0..x_t",
          [3, 4, 0, 7, 8, 9], [0, 1, 2, 2, 3, 3]),
    _ints("Sum_All", "rnn_sum_numerical", 0, 99, lambda x: np.cumsum(x, axis=1),
          "y_t = x_0 + ... + x_t", [5, 17, 0, 99, 3], [5, 22, 22, 121, 124]),
    _sum_last(2, [5, 17, 0, 99, 3], [5, 22, 17, 99, 102]),
    _sum_last(3, [5, 17, 0, 99, 3], [5, 22, 22, 116, 102]),
    _sum_last(4, [5, 17, 0, 99, 3, 10], [5, 22, 22, 121, 119, 112]),
    _sum_last(5, [1, 2, 3, 4, 5, 6, 7], [1, 3, 6, 10, 15, 20, 25]),
    _sum_last(6, [1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 6, 10, 15, 21, 27, 33]),
    _sum_last(7, [1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 6, 10, 15, 21, 28, 35, 42]),
    _ints("Current_Number", "rnn_identity_numerical", 0, 99, lambda x: x, "y_t = x_t",
          [42, 7, 0, 99], [42, 7, 0, 99]),
    _prev(1, [42, 7, 0, 99], [0, 42, 7, 0]),
    _prev(2, [42, 7, 0, 99, 5], [0, 0, 42, 7, 0]),
    _prev(3, [42, 7, 13, 99, 5], [0, 0, 0, 42, 7]),
    _prev(4, [42, 7, 13, 99, 5, 61], [0, 0, 0, 0, 42, 7]),
    _prev(5, [42, 7, 13, 99, 5, 61, 8], [0, 0, 0, 0, 0, 42, 7]),
    _ints("Previous_Equals_Current", "rnn_unique2_numerical", 0, 7, lambda x: x == _shift(x, 1),
          "y_t = 1 if x_t = x_(t-1) else 0, with x_(-1) = 0 (so y_0 = 1 iff x_0 = 0)",
          [0, 3, 3, 5, 5, 5, 2], [1, 0, 1, 0, 1, 1, 0]),
    _ints("Diff_Last2", "rnn_diff_last2_numerical", *_SIGNED, lambda x: x - _shift(x, 1),
          "y_t = x_t - x_(t-1), x_(-1) = 0", [-7, 20, 20, -100, 99], [-7, 27, 0, -120, 199]),
    _ints("Abs_Diff", "rnn_abs_value_of_diff_numerical", *_SIGNED,
          lambda x: np.abs(x - _shift(x, 1)), "y_t = |x_t - x_(t-1)|, x_(-1) = 0",
          [-7, 20, 20, -100, 99], [7, 27, 0, 120, 199]),
    _ints("Abs_Current", "rnn_abs_value_numerical", *_SIGNED, np.abs, "y_t = |x_t|",
          [-7, 20, 0, -100, 99], [7, 20, 0, 100, 99]),
    _ints("Diff_Abs_Values", "rnn_diff_of_abs_value_numerical", *_SIGNED,
          lambda x: np.abs(x) - np.abs(_shift(x, 1)), "y_t = |x_t| - |x_(t-1)|, x_(-1) = 0",
          [-7, 20, -20, -100, 99], [7, 13, 0, 80, -1]),
    _ints("Min_Seen", "rnn_min_numerical", 0, 9, lambda x: np.minimum.accumulate(x, axis=1),
          "y_t = min(x_0..x_t)", [5, 7, 3, 8, 1, 4], [5, 5, 3, 3, 1, 1]),
    _ints("Max_Seen", "rnn_max_numerical", 0, 9, lambda x: np.maximum.accumulate(x, axis=1),
          "y_t = max(x_0..x_t) (inputs 0..9, the final scripts' range)",
          [5, 3, 7, 2, 9, 1], [5, 5, 7, 7, 9, 9]),
    _majority_task(1, [1, 0, 0, 1, 1, 1], [1, 0, 0, 0, 1, 1]),
    _majority_task(2, [2, 1, 1, 2, 0, 0, 0], [2, 1, 1, 1, 1, 0, 0]),
    _majority_task(3, [3, 2, 3, 2, 1, 1, 0], [3, 2, 3, 2, 2, 1, 1]),
    _ints("Evens_Detector", "rnn_evens_detector_numerical", 0, 9, lambda x: x % 2 == 0,
          "y_t = 1 if x_t is even else 0", [3, 4, 0, 7, 8], [0, 1, 1, 0, 1]),
    _ints("Perfect_Square_Detector", "rnn_perfect_square_detector_numerical", 0, 19,
          _perfect_square, "y_t = 1 if x_t is a perfect square (0, 1, 4, 9, 16) else 0",
          [0, 1, 2, 4, 9, 15, 16, 19], [1, 1, 0, 1, 1, 0, 1, 0]),
    _bits("Bit_Palindrome", "rnn_bit_palindromes_numerical", _palindrome_prefix,
          "y_t = 1 if x_0..x_t reads the same reversed else 0 (y_0 = 1); inputs start with a "
          "palindrome of random length 2..T, then random bits",
          [1, 0, 1, 1, 0, 1], [1, 0, 1, 0, 0, 1], sampler=_palindrome_sampler),
    _bits("Balanced_Parenthesis", "rnn_balanced_parenthesis_numerical", _balanced,
          "0 = '(' and 1 = ')'; B_t = #0s - #1s in x_0..x_t; y_t = 1 iff B_t = 0 and B_i >= 0 "
          "for all i <= t (once B goes negative, y stays 0)",
          [0, 1, 0, 0, 1, 1, 1, 0, 1, 0], [0, 1, 0, 0, 0, 1, 0, 0, 0, 0]),
    _bits("Parity_Bits_Mod2", "rnn_parity_of_index_numerical",
          lambda x: np.broadcast_to(np.arange(x.shape[1]) % 2, x.shape),
          "y_t = t mod 2 (0, 1, 0, 1, ...), whatever the input",
          [1, 1, 0, 1, 0], [0, 1, 0, 1, 0]),
    _bits("Alternating_Last3", "rnn_alternating_last3_numerical", _alternating(3),
          "y_t = 1 iff (x_(t-2), x_(t-1), x_t) is 010 or 101, x before the start = 0",
          [1, 0, 1, 1, 0, 1, 0], [0, 1, 1, 0, 0, 1, 1]),
    _bits("Alternating_Last4", "rnn_alternating_last4_numerical", _alternating(4),
          "y_t = 1 iff (x_(t-3), ..., x_t) is 0101 or 1010, x before the start = 0",
          [1, 0, 1, 0, 0, 1, 0, 1], [0, 0, 1, 1, 0, 0, 0, 1]),
    _bits("Bit_Shift_Right", "rnn_bit_shift_right_numerical", lambda x: _shift(x, 1),
          "y_t = x_(t-1), y_0 = 0", [1, 1, 0, 1, 0], [0, 1, 1, 0, 1]),
    _bits("Bit_Dot_Prod_Mod2", "rnn_bit_dot_prod_mod2_numerical",
          lambda x: np.cumsum(x[..., 0] * x[..., 1], axis=1) % 2,
          "y_t = (a_0 b_0 + ... + a_t b_t) mod 2",
          [(1, 1), (1, 0), (1, 1), (0, 1), (1, 1)], [1, 1, 0, 0, 1], d_in=2),
    _div(3, [1, 1, 0, 1, 1, 1], [0, 0, 1, 0, 0, 1]),
    _div(5, [1, 1, 0, 1, 1, 1], [0, 0, 0, 1, 0, 1]),
    _div(7, [1, 1, 1, 0, 0, 1], [0, 0, 0, 1, 0, 0]),
    _add_mod(3, [2, 2, 1, 0, 2], [2, 1, 2, 2, 1]),
    _add_mod(4, [3, 2, 3, 0, 1], [3, 1, 0, 0, 1]),
    _add_mod(5, [4, 3, 2, 1, 0], [4, 2, 4, 0, 0]),
    _add_mod(6, [5, 4, 3, 0, 2], [5, 3, 0, 0, 2]),
    _add_mod(7, [6, 5, 3, 0, 4], [6, 4, 0, 0, 4]),
    _add_mod(8, [7, 6, 3, 0, 5], [7, 5, 0, 0, 5]),
    _ints("Dithering", "rnn_dithering_numerical", 0, 15, _dithering,
          "S_t = x_0 + ... + x_t, S_(-1) = 0; y_t = S_t // 15 - S_(t-1) // 15",
          [10, 10, 15, 0, 4, 1, 5], [0, 1, 1, 0, 0, 0, 1]),
    _newton_task("Newton_Freebody", "rnn_newton_freebody_numerical", lambda f, p: f,
                 f"a_t = x_t; {_INTEGRATE}", [1, 0, -2, 3], [1, 2, 1, 3]),
    _newton_task("Newton_Gravity", "rnn_newton_gravity_numerical", lambda f, p: f - 1,
                 f"a_t = x_t - 1; {_INTEGRATE}", [1, 0, -2, 3], [0, -1, -5, -7]),
    _newton_task("Newton_Spring", "rnn_newton_spring_numerical", lambda f, p: f - p,
                 f"a_t = x_t - p_(t-1); {_INTEGRATE}", [1, 0, -2, 3, 0], [1, 1, -2, 0, 2]),
    Task("Newton_Magnetic", 2, 2, -10, 10, 10, _newton_magnetic,
         f"x_t = (F1_t, F2_t); a_t = (F1_t - v2_(t-1), F2_t + v1_(t-1)); {_INTEGRATE} (2-D)",
         [(1, 0), (0, 1), (-2, 3)], [(1, 0), (2, 2), (-1, 8)], "rnn_newton_magnetic_numerical"),
)
# fmt: on
