"""A Parquet file's footer checked against its own bytes, before any page is decompressed.

A Parquet reader sizes its work from two places the file itself writes: the footer (rows, row
groups, column chunks and their byte sizes) and a header before every page (that page's
compressed and uncompressed sizes and its number of values). The study-table reader bounds rows,
columns and unpacked bytes from the footer, so a forged footer could claim 10 rows and 1 KB while
the pages it points at unpack to gigabytes (zstd packs 1 GB of zeros into about 32 KB). This
module makes the footer's numbers trustworthy, in time linear in the file's size:

* every column chunk lies inside the file, before the footer, and no two chunks overlap (so
  walking the chunks reads each byte of the file at most once);
* walking each chunk's page headers (Thrift compact protocol, parsed here with bounded depth)
  covers exactly its compressed size, and the pages' sizes and values add up to what the footer
  claims for the chunk (its compressed and uncompressed sizes, its number of values);
* every chunk of a row group holds as many values as the row group has rows (call it on a file whose
  columns are flat: a results table's are, and nested columns are refused before), and the row
  groups' rows add up to the file's.

:func:`layout_problem` returns what is inconsistent, in words, or ``None``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_PAGES", "MAX_ROW_GROUPS", "layout_problem"]

#: Most row groups a results table may have (a study writes one; each costs a footer entry per column).
MAX_ROW_GROUPS = 1024
#: Most pages walked in all (a writer puts up to 20,000 rows in a page: a table of 100,000 rows of 256
#: columns has about 1,300); bounds the walk's time whatever the file's page size.
MAX_PAGES = 16_384
#: Deepest nesting of Thrift structs/lists in a page header (the format's own nest 3 deep).
_MAX_DEPTH = 8
# Thrift compact protocol types
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)
# PageHeader fields (parquet.thrift): 2 uncompressed_page_size, 3 compressed_page_size, 5 data page,
# 7 dictionary page, 8 data page v2; num_values is field 1 of each page kind's own header
_UNCOMPRESSED, _COMPRESSED, _DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 2, 3, 5, 7, 8


class _Malformed(Exception):
    """A page header that cannot be parsed within its chunk."""


class _Reader:
    """Thrift compact protocol over ``data[pos:end]``: every read stays inside that range."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise _Malformed("a page header runs past its column chunk")
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self) -> int:
        data, pos, end = self.data, self.pos, min(self.end, self.pos + 10)
        value = shift = 0
        while pos < end:
            b = data[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                self.pos = pos
                return value
            shift += 7
        raise _Malformed("a number in a page header is longer than 10 bytes or runs past its column chunk")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, length: int) -> None:
        if length < 0 or self.pos + length > self.end:
            raise _Malformed("a field of a page header runs past its column chunk")
        self.pos += length

    def value(self, kind: int, depth: int) -> Any:
        """One value of Thrift type ``kind``: ints as ints, structs as ``{field id: value}``, others skipped."""
        if depth > _MAX_DEPTH:
            raise _Malformed("a page header nests deeper than the format allows")
        if kind in (_TRUE, _FALSE):
            return kind == _TRUE
        if kind == _BYTE:
            return self.byte()
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            return self.skip(8)
        if kind == _BINARY:
            return self.skip(self.varint())
        if kind in (_LIST, _SET):
            head = self.byte()
            size = head >> 4 if head >> 4 != 15 else self.varint()
            # each element reads at least one byte, so size is bounded by the chunk
            return [self.value(head & 0x0F if head & 0x0F not in (_TRUE, _FALSE) else _BYTE, depth + 1)
                    for _ in range(size)]
        if kind == _MAP:
            size = self.varint()
            if size:
                types = self.byte()
                for _ in range(size):
                    self.value(types >> 4, depth + 1)
                    self.value(types & 0x0F, depth + 1)
            return None
        if kind == _STRUCT:
            return self.struct(depth + 1)
        raise _Malformed(f"a page header holds an unknown field type {kind}")

    def struct(self, depth: int = 0) -> dict[int, Any]:
        fields: dict[int, Any] = {}
        field = 0
        while True:
            head = self.byte()
            if head == _STOP:
                return fields
            delta, kind = head >> 4, head & 0x0F
            field = field + delta if delta else self.zigzag()
            fields[field] = self.value(kind, depth)


def _walk_chunk(data: bytes, start: int, size: int, pages_left: int) -> tuple[int, int, int, int]:
    """Compressed bytes, uncompressed bytes (page headers included, as the footer counts them), data
    values and number of the pages in ``data[start:start + size]``; at most ``pages_left`` pages."""
    reader = _Reader(data, start, start + size)
    compressed = uncompressed = values = pages = 0
    while reader.pos < start + size:
        pages += 1
        if pages > pages_left:
            raise _Malformed(f"the file splits its data into more than {MAX_PAGES:,} pages")
        header_start = reader.pos
        header = reader.struct()
        packed, unpacked = header.get(_COMPRESSED), header.get(_UNCOMPRESSED)
        if not isinstance(packed, int) or not isinstance(unpacked, int) or packed < 0 or unpacked < 0:
            raise _Malformed("a page header has no valid page sizes")
        header_bytes = reader.pos - header_start
        reader.skip(packed)
        compressed += header_bytes + packed
        uncompressed += header_bytes + unpacked
        for kind in (_DATA_PAGE, _DATA_PAGE_V2):
            page = header.get(kind)
            if isinstance(page, dict):
                count = page.get(1)
                if not isinstance(count, int) or count < 0:
                    raise _Malformed("a data page header has no valid number of values")
                values += count
    return compressed, uncompressed, values, pages


def _level_histograms_problem(data: bytes, footer_start: int) -> str | None:
    """A column chunk whose size statistics carry a level histogram of the wrong length, or None.

    pyarrow checks these lengths when it builds a column chunk's metadata and, on a mismatch, throws
    from code that cannot pass the error on: the whole process aborts. So the footer (Thrift
    ``FileMetaData``) is walked here first: its flat schema's leaves give each column's largest
    repetition and definition levels (0, or 1 for an optional or repeated leaf), and a histogram must
    be empty or hold one count per level.
    """
    try:
        footer = _Reader(data, footer_start, len(data) - 8).struct()
    except _Malformed as err:
        return f"its footer cannot be parsed ({err})"
    schema = footer.get(2) if isinstance(footer.get(2), list) else []
    leaves = [element for element in schema[1:] if isinstance(element, dict)]
    for g, group in enumerate(footer.get(4) if isinstance(footer.get(4), list) else []):
        chunks = group.get(1) if isinstance(group, dict) and isinstance(group.get(1), list) else []
        for c, chunk in enumerate(chunks):
            column = chunk.get(3) if isinstance(chunk, dict) else None
            stats = column.get(16) if isinstance(column, dict) else None
            if not isinstance(stats, dict):
                continue
            repetition = leaves[c].get(3, 0) if c < len(leaves) else 0  # 0 required, 1 optional, 2 repeated
            expected = {2: 1 + (repetition == 2), 3: 1 + (repetition in (1, 2))}
            for field, levels in expected.items():
                histogram = stats.get(field)
                if histogram is not None and (not isinstance(histogram, list) or len(histogram) not in (0, levels)):
                    return (f"column chunk {c} of row group {g} has a level histogram of the wrong length "
                            f"(the column has {levels} level(s))")
    return None


def layout_problem(data: bytes, meta: Any) -> str | None:
    """What in ``meta`` (``pyarrow.parquet.FileMetaData`` of ``data``) disagrees with the file's bytes, or None.

    Linear in ``len(data)``: chunks may not overlap, so each byte is walked at most once.
    """
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    histograms = _level_histograms_problem(data, footer_start)
    if histograms is not None:
        return histograms
    if meta.num_row_groups > MAX_ROW_GROUPS:
        return f"it claims {meta.num_row_groups:,} row groups; at most {MAX_ROW_GROUPS:,} are read"
    chunks, rows = [], 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        rows += group.num_rows
        if group.num_columns != meta.num_columns:
            return f"row group {g} has {group.num_columns} columns, the file {meta.num_columns}"
        for c in range(group.num_columns):
            column = group.column(c)
            offsets = [o for o in (column.dictionary_page_offset, column.data_page_offset) if o is not None and o > 0]
            start = min(offsets, default=-1)
            if start < 4 or column.total_compressed_size < 0 or start + column.total_compressed_size > footer_start:
                return (f"column chunk {c} of row group {g} claims {column.total_compressed_size:,} bytes at offset "
                        f"{start:,}, outside the file's {footer_start:,} bytes of data")
            if column.num_values != group.num_rows:
                return (f"column {c} of row group {g} claims {column.num_values:,} values for "
                        f"{group.num_rows:,} rows")
            chunks.append((start, column.total_compressed_size, g, c, column))
    if rows != meta.num_rows:
        return f"its row groups hold {rows:,} rows, its footer claims {meta.num_rows:,}"
    chunks.sort(key=lambda chunk: chunk[0])
    for (start, size, g, c, _), (next_start, *_rest) in zip(chunks, chunks[1:]):
        if start + size > next_start:
            return f"column chunk {c} of row group {g} overlaps the next one"
    pages_left = MAX_PAGES
    for start, size, g, c, column in chunks:
        try:
            compressed, uncompressed, values, pages = _walk_chunk(data, start, size, pages_left)
        except _Malformed as err:
            return f"column chunk {c} of row group {g}: {err}"
        pages_left -= pages
        if (compressed, uncompressed, values) != (column.total_compressed_size, column.total_uncompressed_size,
                                                  column.num_values):
            return (f"the pages of column chunk {c} of row group {g} hold {values:,} values in {compressed:,} bytes "
                    f"({uncompressed:,} unpacked); its footer claims {column.num_values:,} values in "
                    f"{column.total_compressed_size:,} bytes ({column.total_uncompressed_size:,} unpacked)")
    return None
