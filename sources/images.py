"""What an encoded frame really is: its size from the JPEG/PNG header, and whether a JPEG is whole and decodes.

Sizes come from the bytes a stream holds, never from a text field (docs/scannet.md "Cameras"). The JPEG check
walks the marker segments up to the scan, requires the end-of-image marker (a truncated file has none, yet
decoders return its top half silently) and decodes at 1/8 scale (libjpeg still reads every entropy-coded
block, so corrupt data fails, at a fraction of a full decode's time).
"""

from __future__ import annotations

import struct

import cv2
import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers (baseline, progressive, lossless, ...); C4 (DHT), C8 (JPG), CC (DAC) are not frames.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first start-of-frame segment; None when `data` is not a well-formed JPEG head."""
    if data[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if length < 2:
            return None
        if marker in _SOF:
            if at + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return (int(width), int(height)) if width and height else None
        at += 2 + length
    return None


def png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != PNG_SIGNATURE or len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return (int(width), int(height)) if width and height else None


def encoded_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a JPEG or PNG from its header alone."""
    return png_size(data) if data[:8] == PNG_SIGNATURE else jpeg_size(data)


def jpeg_problem(data: bytes, size: tuple[int, int], decode: bool = True) -> str | None:
    """Why `data` is not a whole JPEG of `size` (width, height), or None. The reasons are skip-count keys.
    `decode=False` checks the header, size and end marker only (microseconds: for a second look)."""
    found = jpeg_size(data)
    if found is None:
        return "color_not_jpeg"
    if found != tuple(size):
        return "color_size_mismatch"
    if data.rstrip(b"\x00\r\n ")[-2:] != b"\xff\xd9":
        return "color_truncated"
    if not decode:
        return None
    reduced = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if reduced is None or reduced.shape != ((size[1] + 7) // 8, (size[0] + 7) // 8):
        return "color_undecodable"
    return None
