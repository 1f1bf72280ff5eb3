"""Reference solution for module_05/ex01_chunking: fixed-size chunks with overlap."""

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
    # Check the arguments first: a bad overlap would make the loop below endless.
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive; got chunk_size={chunk_size}")
    if chunk_overlap < 0:
        raise ValueError(f"chunk_overlap must not be negative; got chunk_overlap={chunk_overlap}")
    if chunk_overlap >= chunk_size:
        raise ValueError(
            f"chunk_overlap must be smaller than chunk_size; "
            f"got chunk_overlap={chunk_overlap}, chunk_size={chunk_size}"
        )

    step = chunk_size - chunk_overlap  # how far the window moves each time
    chunks: list[str] = []
    start = 0
    while start < len(text):
        chunks.append(text[start : start + chunk_size])
        if start + chunk_size >= len(text):
            break  # this chunk reached the end: another one would only repeat its tail
        start += step
    return chunks
