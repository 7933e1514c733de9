"""The text drawn on a ReportLab PDF's pages, for assertions (its content streams inflated)."""

import base64
import re
import zlib


def pdf_text(content: bytes) -> str:
    """The literal strings of every content stream, joined by spaces (PDF escapes undone)."""
    chunks = []
    for match in re.finditer(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", content, re.S):
        header, data = match.group(1), match.group(2)
        if b"ASCII85Decode" in header:
            data = base64.a85decode(data.strip(), adobe=True)
        if b"FlateDecode" in header:
            try:
                data = zlib.decompress(data)
            except zlib.error:
                continue
        chunks.append(data)
    strings = re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", b"\n".join(chunks))
    text = " ".join(s.decode("latin-1") for s in strings)
    text = re.sub(r"\\([0-7]{1,3})", lambda m: chr(int(m.group(1), 8)), text)  # WinAnsi: \243 is £
    return re.sub(r"\\(.)", r"\1", text)
