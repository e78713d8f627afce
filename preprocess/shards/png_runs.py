"""PNG image data of run-heavy images (label maps, masks, pose renders) as a zlib stream built from the runs.

A PNG's image data is one zlib stream of its rows, each led by a filter byte. For images made of long runs
of equal pixels, `zlib_stream_from_runs` writes that stream without zlib's byte-by-byte match search:
every row with filter 0 (none), and per run of equal pixels the pixel's bytes as literals and the rest of
the run as copies of the pixel before (LZ77 matches at a distance of one pixel, up to 258 bytes each),
Huffman-coded in one dynamic deflate block (RFC 1951) with codes fitted to the image, and the Adler-32
checksum (RFC 1950) summed in closed form per run. The work is vectorised over runs rather than bytes:
about 2/3 of zlib's time on a 1024 x 768 label map, half of it on an RGB render. Any inflater reads the
stream, so the PNG is an ordinary one. Images with short runs (photographs, noisy JPEG decodes) get None:
zlib's matcher, which also finds repeats that are not runs, is the better tool there.
"""

from __future__ import annotations

import struct

import cv2
import numpy as np

# Pixels per run on average (grey, RGB) below which zlib is faster: the runs cost per run, zlib per byte.
MIN_MEAN_RUN = {1: 100, 3: 32}
SAMPLED_ROW_STEP = 16  # the run count is first estimated from every 16th row
_MAX_MATCH = 258
_MAX_CODE_BITS = 15  # literal/length and distance codes
_MAX_CODE_LENGTH_BITS = 7  # the code-length code
_END_OF_BLOCK = 256
_ADLER_MOD = 65521
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, no dictionary (header checksum: 0x7801 % 31 == 0)
# The order in which the code-length code's own lengths are written (RFC 1951 3.2.7).
_CODE_LENGTH_ORDER = np.array([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15])
# Distance code of a one-pixel distance for grey and RGB pixels (1 and 3 bytes: codes 0 and 2, no extra
# bits). 258 is a multiple of 3, so an RGB run's matches always end on a pixel boundary.
_DISTANCE_CODE = {1: 0, 3: 2}


def _length_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per match length 3..258: its literal/length symbol, extra-bit count and extra-bit value."""
    symbol, extra_bits, extra = (np.zeros(_MAX_MATCH + 1, np.int64) for _ in range(3))
    base, code = 3, 257
    for bits, count in ((0, 8), (1, 4), (2, 4), (3, 4), (4, 4), (5, 4)):
        for _ in range(count):
            for length in range(base, base + (1 << bits)):
                symbol[length], extra_bits[length], extra[length] = code, bits, length - base
            base, code = base + (1 << bits), code + 1
    symbol[_MAX_MATCH], extra_bits[_MAX_MATCH], extra[_MAX_MATCH] = 285, 0, 0
    return symbol, extra_bits, extra


_LENGTH_SYMBOL, _LENGTH_EXTRA_BITS, _LENGTH_EXTRA = _length_tables()
# x -> x's 15 bits in reverse order (a code of n bits reversed is _REVERSED_15[code] >> (15 - n)).
_REVERSED_15 = np.zeros(1 << _MAX_CODE_BITS, np.int64)
for _bit in range(_MAX_CODE_BITS):
    _REVERSED_15 |= ((np.arange(1 << _MAX_CODE_BITS) >> _bit) & 1) << (_MAX_CODE_BITS - 1 - _bit)


def zlib_stream_from_runs(array: np.ndarray) -> bytes | None:
    """The zlib stream of a PNG's filtered rows (filter 0) for an 8-bit grey (H, W) or RGB (H, W, 3) image;
    None for other channel counts, or when its runs are too short on average (MIN_MEAN_RUN) to beat zlib."""
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    if channels not in _DISTANCE_CODE or height * width == 0:
        return None
    min_mean_run = MIN_MEAN_RUN[channels]
    if width < min_mean_run:  # every row is at least one run
        return None
    sampled = _changes(array[::SAMPLED_ROW_STEP], channels)
    if (cv2.countNonZero(sampled) + len(sampled)) * min_mean_run > len(sampled) * width:
        return None
    starts = np.empty((height, width), bool)  # flatnonzero is far faster on bool than on uint8
    starts[:, 0] = True
    starts[:, 1:] = _changes(array, channels)
    first = np.flatnonzero(starts)  # flat pixel index where each run starts; runs never cross rows
    if len(first) * min_mean_run > height * width:
        return None
    rows, cols = np.divmod(first, width)
    lengths = np.diff(first, append=height * width)
    if array.flags.c_contiguous:
        pixels = array.reshape(-1, channels).take(first, axis=0).astype(np.int64)
    else:
        pixels = np.asarray(array[rows, cols]).reshape(len(first), channels).astype(np.int64)
    deflate = _dynamic_block(cols == 0, pixels, lengths, channels)
    stride = width * channels + 1
    offsets = rows * stride + 1 + cols * channels  # stream offset of each run's first byte
    adler = _adler32(offsets, pixels, lengths, channels, height * stride)
    return _ZLIB_HEADER + deflate + struct.pack(">I", adler)


def _changes(array: np.ndarray, channels: int) -> np.ndarray:
    """(H, W - 1) uint8: non-zero where a pixel differs from the pixel on its left."""
    height, width = array.shape[:2]
    flat = array.reshape(height, width * channels)
    differs = cv2.compare(flat[:, channels:], flat[:, :-channels], cv2.CMP_NE)  # 255 per differing byte
    if channels == 1:
        return differs
    # Grey of the per-byte flags: a weighted sum of 0/255 values, non-zero when any channel differs.
    return cv2.cvtColor(differs.reshape(height, width - 1, channels), cv2.COLOR_RGB2GRAY)


def _dynamic_block(row_start: np.ndarray, pixels: np.ndarray, lengths: np.ndarray, channels: int) -> bytes:
    """One final deflate block with dynamic Huffman codes (RFC 1951 3.2.7) for the runs, in stream order.

    Per run: the row's filter byte 0 when the run starts a row, the pixel's bytes as literals, then the
    other (length - 1) pixels as matches of 258 bytes and one shorter match, each at a distance of one
    pixel; a remainder under 3 bytes (grey pixels only: 258 is a multiple of 3) is written as literals.
    The codes are fitted to the symbol counts, which follow from the runs without listing the symbols;
    each run is then written as bit fields: its literals, each 258-byte match, and the rest.
    """
    full, rest = np.divmod((lengths - 1) * channels, _MAX_MATCH)
    tail_match = rest >= 3
    tail_literals = np.where(tail_match, 0, rest)
    match_symbol = _LENGTH_SYMBOL[_MAX_MATCH]
    frequencies = np.bincount(pixels.ravel(), minlength=286)
    frequencies[0] += int(np.count_nonzero(row_start))  # the filter bytes
    frequencies += np.bincount(pixels[:, 0], tail_literals, minlength=286).astype(np.int64)
    frequencies += np.bincount(_LENGTH_SYMBOL[rest[tail_match]], minlength=286)
    frequencies[match_symbol] += int(full.sum())
    frequencies[_END_OF_BLOCK] += 1
    code_lengths = _code_lengths(frequencies, _MAX_CODE_BITS)
    codes = _canonical_codes(code_lengths)
    distance_code = 1 if _DISTANCE_CODE[channels] else 0  # of the two one-bit codes: 0 and the one used
    header_values, header_bits = _block_header(code_lengths, _DISTANCE_CODE[channels])

    # The run's literals: its row's filter byte, then the pixel's bytes (at most 4 codes of 15 bits).
    head = np.where(row_start, codes[0], 0)
    head_bits = np.where(row_start, code_lengths[0], 0)
    for channel in range(channels):
        value = pixels[:, channel]
        head |= codes[value] << head_bits
        head_bits += code_lengths[value]
    # A 258-byte match: symbol 285 (no extra bits), then the distance code.
    match = int(codes[match_symbol]) | distance_code << int(code_lengths[match_symbol])
    match_bits = int(code_lengths[match_symbol]) + 1
    # The rest: a shorter match with its extra bits and distance code, or one or two literals.
    symbol = _LENGTH_SYMBOL[rest]
    symbol_bits = code_lengths[symbol]
    extra_bits = _LENGTH_EXTRA_BITS[rest]
    tail = codes[symbol] | _LENGTH_EXTRA[rest] << symbol_bits | distance_code << (symbol_bits + extra_bits)
    tail_bits = np.where(tail_match, symbol_bits + extra_bits + 1, 0)
    literal, literal_bits = codes[pixels[:, 0]], code_lengths[pixels[:, 0]]
    tail = np.where(tail_match, tail, np.where(tail_literals > 1, literal | literal << literal_bits, literal))
    tail = np.where(tail_literals + tail_match > 0, tail, 0)
    tail_bits = np.where(tail_match, tail_bits, tail_literals * literal_bits)

    count = 2 + full  # bit fields per run
    begin = np.cumsum(count) - count + len(header_values)
    total = len(header_values) + int(count.sum()) + 1
    values = np.zeros(total, np.int64)
    bits = np.zeros(total, np.int64)
    values[: len(header_values)], bits[: len(header_values)] = header_values, header_bits
    values[begin], bits[begin] = head, head_bits
    matches = _expand(begin + 1, full)
    values[matches], bits[matches] = match, match_bits
    values[begin + 1 + full], bits[begin + 1 + full] = tail, tail_bits
    values[-1], bits[-1] = codes[_END_OF_BLOCK], code_lengths[_END_OF_BLOCK]
    return _pack_bits(values.astype(np.uint64), bits)


def _block_header(code_lengths: np.ndarray, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Bit fields of a final dynamic block's header: BFINAL, BTYPE, HLIT, HDIST, HCLEN, the code-length
    code, then the literal/length and distance code lengths written with it (no run-length codes).

    The distance code has two one-bit codes, 0 and `distance` (a complete code, as inflaters require).
    """
    hlit = int(np.flatnonzero(code_lengths).max()) + 1
    distance_lengths = np.zeros(max(distance, 1) + 1, np.int64)
    distance_lengths[[0, max(distance, 1)]] = 1
    lengths = np.concatenate([code_lengths[:hlit], distance_lengths])
    length_lengths = _code_lengths(np.bincount(lengths, minlength=19), _MAX_CODE_LENGTH_BITS)
    order = length_lengths[_CODE_LENGTH_ORDER]
    hclen = max(4, int(np.flatnonzero(order).max()) + 1)
    length_codes = _canonical_codes(length_lengths)
    values = np.concatenate(
        [[1, 2, hlit - 257, len(distance_lengths) - 1, hclen - 4], order[:hclen], length_codes[lengths]]
    )
    bits = np.concatenate([[1, 2, 5, 5, 4], np.full(hclen, 3), length_lengths[lengths]])
    return values.astype(np.int64), bits.astype(np.int64)


def _expand(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """starts[k], starts[k] + 1, ..., starts[k] + counts[k] - 1 for every k, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    group_begin = np.cumsum(counts) - counts
    return np.repeat(starts - group_begin, counts) + np.arange(total)


def _code_lengths(frequencies: np.ndarray, limit: int) -> np.ndarray:
    """Huffman code lengths (at most `limit` bits) for the symbol frequencies; at least two symbols get a
    code, so every code is complete. Over-long codes are avoided by flattening the frequencies."""
    frequencies = np.asarray(frequencies, np.int64).copy()
    used = np.flatnonzero(frequencies)
    if len(used) < 2:
        spare = 0 if (len(used) == 0 or used[0] != 0) else 1
        frequencies[spare] = max(1, int(frequencies[spare]))
        if len(used) == 0:
            frequencies[1] = 1
    while True:
        lengths = _huffman_lengths(frequencies)
        if lengths.max() <= limit:
            return lengths
        frequencies = np.where(frequencies > 0, (frequencies + 1) // 2, 0)


def _huffman_lengths(frequencies: np.ndarray) -> np.ndarray:
    """Depth of each used symbol in a Huffman tree of the frequencies (0 for unused symbols).

    The two-queue construction: leaves sorted by (frequency, symbol), merged nodes appended in the order
    they are made (their weights never decrease), the two lightest of both queues' heads merged each time.
    """
    used = [int(s) for s in np.flatnonzero(frequencies)]
    leaves = sorted((int(frequencies[s]), s) for s in used)
    weights = [w for w, _ in leaves]
    parent = [0] * (2 * len(leaves) - 1)  # nodes: leaves 0..n-1, then merged nodes n..2n-2
    leaf, merged, count = 0, len(leaves), len(leaves)

    def lightest() -> int:
        nonlocal leaf, merged
        if leaf < len(leaves) and (merged >= count or weights[leaf] <= weights[merged]):
            leaf += 1
            return leaf - 1
        merged += 1
        return merged - 1

    while count < len(parent):
        a, b = lightest(), lightest()
        weights.append(weights[a] + weights[b])
        parent[a] = parent[b] = count
        count += 1
    depth = [0] * len(parent)
    for node in range(len(parent) - 2, -1, -1):  # parents come after their children
        depth[node] = depth[parent[node]] + 1
    lengths = np.zeros(len(frequencies), np.int64)
    lengths[[s for _, s in leaves]] = depth[: len(leaves)]
    return lengths


def _canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Deflate's canonical Huffman codes for the code lengths (RFC 1951 3.2.2), bit-reversed for
    LSB-first packing: codes count up in order of (length, symbol)."""
    lengths = np.asarray(lengths, np.int64)
    used = np.flatnonzero(lengths)
    order = used[np.argsort(lengths[used], kind="stable")]
    ordered = lengths[order]
    # The first code of each length: (first code of the previous length + its count) << 1, starting at 0.
    count = np.bincount(ordered, minlength=_MAX_CODE_BITS + 1)
    first = np.zeros(_MAX_CODE_BITS + 1, np.int64)
    for bits in range(1, _MAX_CODE_BITS + 1):
        first[bits] = (first[bits - 1] + count[bits - 1]) << 1
    rank = np.arange(len(order)) - np.searchsorted(ordered, ordered)  # position among codes of its length
    codes = np.zeros(len(lengths), np.int64)
    codes[order] = _REVERSED_15[first[ordered] + rank] >> (_MAX_CODE_BITS - ordered)
    return codes


def _pack_bits(values: np.ndarray, bits: np.ndarray) -> bytes:
    """Concatenate bit fields LSB-first (deflate's order), padded to whole bytes; fields up to 57 bits."""
    ends = np.cumsum(bits)
    starts = ends - bits
    word = starts >> 6
    shift = (starts & 63).astype(np.uint64)
    words = np.zeros(int((ends[-1] + 63) >> 6) + 1, np.uint64)
    # The fields in one word occupy disjoint bits, so adding them is OR-ing them.
    _add_by_word(words, word, values << shift)
    spill = (starts & 63) + bits > 64
    if spill.any():
        _add_by_word(words, word[spill] + 1, values[spill] >> (np.uint64(64) - shift[spill]))
    return words.astype("<u8").tobytes()[: int((ends[-1] + 7) >> 3)]


def _add_by_word(words: np.ndarray, index: np.ndarray, parts: np.ndarray) -> None:
    """words[index[k]] += parts[k] for non-decreasing `index`."""
    boundaries = np.flatnonzero(np.diff(index)) + 1
    heads = np.concatenate([[0], boundaries])
    words[index[heads]] += np.add.reduceat(parts, heads)


def _adler32(offsets: np.ndarray, pixels: np.ndarray, lengths: np.ndarray, channels: int, total: int) -> int:
    """Adler-32 of the whole filtered stream (`total` bytes; filter bytes 0, runs of repeated pixels).

    A = 1 + sum of the bytes; B = total + sum over bytes of (total - position) * byte (mod 65521).
    Channel c of a run repeats at positions offset + c + channels * j for j < length, so a run adds
    length * S to A and S * (length * (total - offset) - channels * length * (length - 1) / 2) - length * T
    to B, with S the sum of its pixel's bytes and T the sum of c * byte c.
    """
    byte_sum = pixels.sum(axis=1)
    index_sum = pixels @ np.arange(channels)
    spread = (lengths * (total - offsets) - channels * lengths * (lengths - 1) // 2) % _ADLER_MOD
    a = 1 + int((byte_sum * (lengths % _ADLER_MOD) % _ADLER_MOD).sum())
    b = total + int(((byte_sum * spread - lengths % _ADLER_MOD * index_sum) % _ADLER_MOD).sum())
    return (b % _ADLER_MOD) << 16 | (a % _ADLER_MOD)
