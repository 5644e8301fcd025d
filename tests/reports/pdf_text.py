"""The text drawn on a PDF's pages, read back the way a viewer does: each string shown with `Tj`
is decoded through its font's ToUnicode map (the embedded TrueType fonts write glyph ids), or as
Latin-1 for the core fonts. Enough for the PDFs fpdf2 writes; not a general PDF parser."""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_SHOW = re.compile(rb"/(?P<font>F\d+) [\d.]+ Tf|\((?P<text>(?:\\.|[^\\)])*)\) Tj|(?P<end>\bET\b)", re.S)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(number): body for number, body in _OBJECT.findall(data)}


def _stream(body: bytes) -> bytes:
    match = _STREAM.search(body)
    if match is None:
        return b""
    head = body.split(b"stream")[0]
    # The declared length, when there is one: a stream whose last byte is a carriage return would
    # lose it to the pattern's optional one before "endstream".
    length = re.search(rb"/Length (\d+)\b", head)
    raw = body[match.start(1) : match.start(1) + int(length.group(1))] if length else match.group(1)
    return zlib.decompress(raw) if b"/FlateDecode" in head else raw


def _unescape(literal: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code.isdigit():
            return bytes([int(code, 8) & 0xFF])
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(one, literal)


def _to_unicode(cmap: bytes) -> dict[int, str]:
    glyphs: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            glyphs[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for first, last, text in re.findall(rb"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block):
            start = int(text, 16)
            for offset in range(int(last, 16) - int(first, 16) + 1):
                glyphs[int(first, 16) + offset] = chr(start + offset)
    return glyphs


def _font_maps(objects: dict[int, bytes]) -> dict[bytes, dict[int, str] | None]:
    """Resource name (F1...) → glyph id → text; None for a core font (Latin-1 bytes)."""
    maps: dict[bytes, dict[int, str] | None] = {}
    for body in objects.values():
        for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            reference = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(number)])
            maps[name] = _to_unicode(_stream(objects[int(reference.group(1))])) if reference else None
    return maps


def pdf_text(data: bytes) -> str:
    objects = _objects(data)
    fonts = _font_maps(objects)
    contents = {int(n) for body in objects.values() for n in re.findall(rb"/Contents (\d+) 0 R", body)}
    shown: list[str] = []
    for number in sorted(contents):
        glyphs: dict[int, str] | None = None
        for match in _SHOW.finditer(_stream(objects[number])):
            if match["font"]:
                glyphs = fonts[match["font"]]
                continue
            if match["end"]:  # a text object ends: the next text is another cell or line
                shown.append("\n")
                continue
            raw = _unescape(match["text"])
            if glyphs is None:
                shown.append(raw.decode("latin-1"))
            else:
                codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
                shown.append("".join(glyphs.get(code, "\ufffd") for code in codes))
    return "".join(shown)
