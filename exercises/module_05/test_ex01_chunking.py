"""Checks for ex01_chunking: fixed-size chunks with overlap, checked on many inputs.

The property tests use hypothesis: it generates texts, sizes and overlaps, and
when a check fails it shrinks the input to the smallest one that still fails
("Falsifying example: ..." in the report shows it).
"""

import signal
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.messages import shown

# Few, fast examples; nothing written to disk; one clear failure instead of many.
FAST = settings(max_examples=60, deadline=None, database=None, report_multiple_bugs=False)

TEXTS = st.text(alphabet="abcdefgh \n.", max_size=200)


@st.composite
def sizes(draw):
    """A valid (chunk_size, chunk_overlap) pair."""
    size = draw(st.integers(min_value=1, max_value=40))
    overlap = draw(st.integers(min_value=0, max_value=size - 1))
    return size, overlap


@contextmanager
def time_limit(seconds: int):
    """Turn an endless loop into a clear failure (where the OS has SIGALRM)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum, frame):
        raise TimeoutError(f"chunk_text did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def chunks_of(exercise, text: str, size: int, overlap: int) -> list[str]:
    """chunk_text(text, size, overlap), checked to be a list of strings."""
    chunks = exercise.chunk_text(text, size, overlap)
    assert isinstance(chunks, list) and all(isinstance(c, str) for c in chunks), (
        f"expected chunk_text to return a list of strings; chunk_text({shown(text, 60)}, "
        f"{size}, {overlap}) returned {shown(chunks)}"
    )
    return chunks


def test_a_short_text_is_one_chunk_and_an_empty_text_none(exercise):
    got = exercise.chunk_text("", 10, 2)
    assert got == [], f"expected chunk_text('', 10, 2) to be []; got {shown(got)}"
    got = exercise.chunk_text("abcdefghij", 10, 2)
    assert got == ["abcdefghij"], (
        f"expected a text of exactly chunk_size characters to be one chunk, ['abcdefghij']; "
        f"got {shown(got)}"
    )


def test_a_small_example_gives_exactly_these_chunks(exercise):
    got = exercise.chunk_text("abcdefghij", 4, 1)
    expected = ["abcd", "defg", "ghij"]
    assert got == expected, (
        f"expected chunk_text('abcdefghij', chunk_size=4, chunk_overlap=1) to be {expected} "
        f"(each chunk starts 4 - 1 = 3 characters after the one before); got {shown(got)}"
    )


def test_every_chunk_but_the_last_has_exactly_chunk_size_characters(exercise):
    @FAST
    @given(TEXTS, sizes())
    def check(text, pair):
        size, overlap = pair
        chunks = chunks_of(exercise, text, size, overlap)
        lengths = [len(c) for c in chunks]
        assert all(n == size for n in lengths[:-1]), (
            f"expected every chunk except the last to have chunk_size={size} characters; "
            f"chunk lengths were {lengths} (chunk_overlap={overlap}, text of {len(text)} chars)"
        )
        assert all(1 <= n <= size for n in lengths), (
            f"expected every chunk to have between 1 and chunk_size={size} characters; "
            f"chunk lengths were {lengths}"
        )

    check()


def test_neighbouring_chunks_share_exactly_chunk_overlap_characters(exercise):
    @FAST
    @given(TEXTS, sizes())
    def check(text, pair):
        size, overlap = pair
        chunks = chunks_of(exercise, text, size, overlap)
        for i, (left, right) in enumerate(zip(chunks, chunks[1:], strict=False)):
            shared_left = left[len(left) - overlap :] if overlap else ""
            assert right[:overlap] == shared_left, (
                f"expected chunk {i + 1} to start with the last {overlap} characters of chunk "
                f"{i} (chunk_size={size}, chunk_overlap={overlap}); chunk {i} is {shown(left)}, "
                f"chunk {i + 1} is {shown(right)}"
            )

    check()


def test_the_chunks_cover_the_whole_text_with_nothing_left_out(exercise):
    @FAST
    @given(TEXTS, sizes())
    def check(text, pair):
        size, overlap = pair
        chunks = chunks_of(exercise, text, size, overlap)
        rebuilt = chunks[0] + "".join(c[overlap:] for c in chunks[1:]) if chunks else ""
        assert rebuilt == text, (
            f"expected the first chunk plus every later chunk without its first {overlap} "
            f"characters to give back the text; text {shown(text)} (chunk_size={size}, "
            f"chunk_overlap={overlap}) gave chunks {shown(chunks)}"
        )

    check()


def test_no_chunk_lies_wholly_inside_the_chunk_before_it(exercise):
    @FAST
    @given(TEXTS, sizes())
    def check(text, pair):
        size, overlap = pair
        chunks = chunks_of(exercise, text, size, overlap)
        step = size - overlap
        expected = 0 if not text else 1 + max(0, -(-(len(text) - size) // step))
        assert len(chunks) == expected, (
            f"expected {expected} chunks for a text of {len(text)} characters with "
            f"chunk_size={size}, chunk_overlap={overlap}: stop at the first chunk that reaches "
            f"the end of the text; got {len(chunks)}: {shown(chunks)}"
        )

    check()


@pytest.mark.parametrize(
    ("chunk_size", "chunk_overlap", "names"),
    [
        # these two also break "chunk_overlap < chunk_size": naming either argument is right
        (0, 0, ("chunk_size", "chunk_overlap")),
        (-5, 0, ("chunk_size", "chunk_overlap")),
        (10, -1, "chunk_overlap"),
        (10, 10, "chunk_overlap"),
        (10, 25, "chunk_overlap"),
    ],
    ids=["size-zero", "size-negative", "overlap-negative", "overlap-equal", "overlap-larger"],
)
def test_bad_arguments_raise_a_value_error_that_names_them(
    exercise, chunk_size, chunk_overlap, names
):
    try:
        with time_limit(3):
            got = exercise.chunk_text("some text to cut into pieces", chunk_size, chunk_overlap)
    except TimeoutError:
        pytest.fail(
            f"expected ValueError for chunk_size={chunk_size}, chunk_overlap={chunk_overlap}; "
            "chunk_text never returned: with such arguments the window never moves forward. "
            "Check the arguments before you start cutting.",
            pytrace=False,
        )
    except ValueError as err:
        accepted = (names,) if isinstance(names, str) else names
        assert any(name in str(err) for name in accepted), (
            f"expected the ValueError for chunk_size={chunk_size}, chunk_overlap={chunk_overlap} "
            f"to name {' or '.join(accepted)} so the caller knows what to fix; its message was "
            f"{shown(str(err))}"
        )
    else:
        pytest.fail(
            f"expected ValueError for chunk_size={chunk_size}, chunk_overlap={chunk_overlap}; "
            f"chunk_text returned {shown(got)}",
            pytrace=False,
        )
