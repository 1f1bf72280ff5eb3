"""Exercise 1: cut a document into fixed-size chunks that overlap.

A RAG system never retrieves whole documents: it retrieves *chunks*. The
simplest chunker slides a window of ``chunk_size`` characters over the text
and moves it forward by ``chunk_size - chunk_overlap`` characters each time,
so that neighbouring chunks share ``chunk_overlap`` characters and a sentence
cut at a boundary can still be found from either side.

Build ``chunk_text(text, chunk_size, chunk_overlap)``: a plain Python function,
no MLflow yet. Exercise 2 runs it inside Spark on every document, and
exercise 5 uses MLflow to choose ``chunk_size`` and ``chunk_overlap`` by
experiment. Because everything after this builds on it, its tests check the
rules below on many generated inputs (property-based tests with hypothesis),
not only on a few examples.

Done looks like this::

    >>> chunk_text("abcdefghij", chunk_size=4, chunk_overlap=1)
    ['abcd', 'defg', 'ghij']
    >>> chunk_text("abcdefghij", chunk_size=4, chunk_overlap=4)
    Traceback (most recent call last):
    ValueError: chunk_overlap must be smaller than chunk_size; ...

Run the checks: ``uv run pytest exercises/module_05/test_ex01_chunking.py``
"""

from __future__ import annotations


def chunk_text(text: str, chunk_size: int, chunk_overlap: int) -> list[str]:
    """Cut ``text`` into chunks of ``chunk_size`` characters; neighbours share
    ``chunk_overlap`` characters.

    - Chunk ``i`` starts at character ``i * (chunk_size - chunk_overlap)``.
    - Every chunk is exactly ``chunk_size`` characters long, except the last,
      which may be shorter; the last chunk is the first one that reaches the
      end of the text (no chunk lies wholly inside the one before it).
    - Together the chunks cover the whole text: the first chunk, followed by
      every later chunk without its first ``chunk_overlap`` characters, is the
      text again.
    - An empty text gives ``[]``; a text no longer than ``chunk_size`` gives
      ``[text]``.

    Raises:
        ValueError: ``chunk_size`` is not positive, ``chunk_overlap`` is
            negative, or ``chunk_overlap`` is not smaller than ``chunk_size``
            (the window would never move). The message names the argument.
    """
    # TODO: check the three argument rules first (raise ValueError naming the argument),
    #       then slide a window of chunk_size characters forward by
    #       chunk_size - chunk_overlap until a chunk reaches the end of the text.
    raise NotImplementedError("chunk_text: not written yet (see the TODO above)")
