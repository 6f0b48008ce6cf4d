"""A generated corpus of malformed exports (issue 12): truncated and invalid JSON, deep nesting, numbers no
record holds, wrong types, zip bombs and tricks, path-traversal names, wrong encodings, BOMs, XML and other
formats where JSON is expected, impossible dates. Deterministic (no randomness), synthetic (no real people).

`corpus()` yields Case(name, filename, data); each must end, at ingest and over the API, in a clean error
(4xx, naming the file) or a success whose every resource is a record or a counted skip."""

from __future__ import annotations

import copy
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fhir_factory as F

MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    data: bytes


def _good() -> dict[str, Any]:
    return F.bundle(F.patient(), F.a1c("o1", 6.1, "2024-05-02T08:00:00Z"),
                    F.condition("c1", "44054006", "Diabetes mellitus type 2", "2019-03-01"),
                    F.medication("m1"), F.med_request_by_reference("r1", "urn:uuid:m1"),
                    F.note("d1", "Walks daily."))


def _dump(obj: Any) -> bytes:
    return json.dumps(obj).encode()


# zips ---------------------------------------------------------------------------------------------------------
def raw_zip(entries: list[tuple[str, bytes, int, int, int]], method: int = 8, flags: int = 0) -> bytes:
    """A zip written by hand: (name, stored bytes, crc, compressed size, declared size) per entry, so sizes,
    methods and flags can lie."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, blob, crc, csize, usize in entries:
        offset, raw = out.tell(), name.encode("utf-8", "surrogateescape")
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, csize, usize, len(raw), 0))
        out.write(raw + blob)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, csize, usize,
                                  len(raw), 0, 0, 0, 0, 0, offset))
        central.write(raw)
    cd = central.getvalue()
    start = out.tell()
    out.write(cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd), start, 0))
    return out.getvalue()


def deflated(data: bytes) -> tuple[bytes, int]:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush(), zlib.crc32(data)


def zeros_entry(size: int) -> tuple[bytes, int]:
    """Raw deflate of `size` spaces (valid JSON whitespace), made in chunks: ~1,000:1."""
    comp, crc, chunk, left, parts = zlib.compressobj(9, zlib.DEFLATED, -15), 0, b" " * MB, size, []
    while left:
        piece = chunk[:min(left, MB)]
        parts.append(comp.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(comp.flush())
    return b"".join(parts), crc


def bomb(entries: int = 10, size: int = 190 * MB) -> bytes:
    """The issue's bomb: a ~1.9 MB zip of 10 entries of 190 MB each."""
    blob, crc = zeros_entry(size)
    return raw_zip([(f"part{i}.json", blob, crc, len(blob), size) for i in range(entries)])


def normal_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _zip_cases() -> Iterator[Case]:
    good = _dump(_good())
    yield Case("zip bomb 10 x 190 MB", "bomb.zip", bomb())
    yield Case("zip of 20,000 entries", "many.zip", raw_zip([(f"f{i}.txt", b"", 0, 0, 0) for i in range(20_000)],
                                                            method=0))
    blob, crc = deflated(b" " * (4 * MB) + good)
    yield Case("zip entry lying about its size", "liar.zip", raw_zip([("x.json", blob, crc, len(blob), 100)]))
    packed, _ = deflated(good)
    yield Case("zip entry with a wrong CRC", "crc.zip", raw_zip([("x.json", packed, 1234, len(packed), len(good))]))
    yield Case("zip with an unknown compression method", "method.zip",
               raw_zip([("x.json", good, zlib.crc32(good), len(good), len(good))], method=99))
    yield Case("zip entry marked encrypted", "locked.zip",
               raw_zip([("x.json", good, zlib.crc32(good), len(good), len(good))], method=0, flags=1))
    yield Case("zip with damaged deflate data", "broken.zip",
               raw_zip([("x.json", b"\xff" * 64, zlib.crc32(good), 64, len(good))]))
    yield Case("truncated zip", "cut.zip", normal_zip({"x.json": good})[:-30])
    yield Case("zip with no entries", "empty.zip", normal_zip({}))
    yield Case("zip with only other files", "other.zip", normal_zip({"notes.txt": b"hello", "a.png": b"\x89PNG"}))
    yield Case("zip inside a zip", "nested.zip", normal_zip({"inner.zip": normal_zip({"x.json": good})}))
    for i, name in enumerate(["../../etc/passwd.json", "/abs/root.json", "C:\\Windows\\x.json", "a/../../b.json",
                              "x\x00y.json", "line\nbreak.json", "\u202egnp.json", "é" * 300 + ".json",
                              "....json", " .json"]):
        yield Case(f"zip entry name {i}: {name[:20]!r}", f"names{i}.zip", normal_zip({name: good}))
    yield Case("zip of a bad entry among good", "mixed.zip", normal_zip({"a.json": good, "b.json": b"{oops"}))


# JSON text --------------------------------------------------------------------------------------------------
def _text_cases() -> Iterator[Case]:
    good = _dump(_good())
    for cut in (1, 2, 10, 50, 100, 250, 500, 1000, len(good) // 2, len(good) - 40, len(good) - 2, len(good) - 1):
        yield Case(f"truncated at byte {cut}", "cut.json", good[:cut])
    for i, text in enumerate(["{", "}", "[", "[1,2", '{"a":}', "{'resourceType': 'Bundle'}", '{"a":1,}',
                              '{"a":1} // comment', "{a:1}", '{"resourceType":"Bundle"', "nul", "tru", '"just a string"',
                              "12345", "[]", "null", '{"resourceType": "Bundle", "entry": [}', "\x00\x01\x02",
                              '{"resourceType":"Patient"}{"resourceType":"Patient"}', '{"a":"\\ud800"}',
                              '{"a":"\\x41"}', '{"a": 01}', '{"a": .5}', '{"a": +1}', '{"a": 1e}',
                              '{"resourceType":"Observation","id":"\t"}']):
        yield Case(f"invalid JSON {i}: {text[:20]!r}", f"invalid{i}.json", text.encode())
    for depth in (70, 200, 999, 5_000, 100_000):
        nested = "[" * depth + "]" * depth
        yield Case(f"nested {depth} deep in a Bundle", f"deep{depth}.json",
                   ('{"resourceType":"Bundle","entry":' + nested + "}").encode())
        yield Case(f"objects nested {depth} deep", f"deepobj{depth}.json",
                   ('{"resourceType":"Observation","x":' + '{"a":' * depth + "1" + "}" * depth + "}").encode())
    for token in ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 5000, "-" + "9" * 5000, "9" * 100):
        yield Case(f"number {token[:12]} ({len(token)} chars)", "number.json", good.replace(b'"value": 6.1', b'"value": ' + token.encode()))
    for token in ("NaN", "Infinity", "1e400", "9" * 5000):
        yield Case(f"number {token[:12]} ({len(token)} chars) as a string", "numstr.json",
                   good.replace(b'"value": 6.1', b'"value": "' + token.encode() + b'"'))
    yield Case("1e-400 (underflows to 0)", "tiny.json", good.replace(b'"value": 6.1', b'"value": 1e-400'))


def _encoding_cases() -> Iterator[Case]:
    good = json.dumps(_good())
    yield Case("UTF-8 with a BOM", "bom.json", b"\xef\xbb\xbf" + good.encode())
    yield Case("two BOMs", "bom2.json", b"\xef\xbb\xbf\xef\xbb\xbf" + good.encode())
    yield Case("UTF-16 LE with a BOM", "u16le.json", good.encode("utf-16"))
    yield Case("UTF-16 BE", "u16be.json", good.encode("utf-16-be"))
    yield Case("UTF-32", "u32.json", good.encode("utf-32"))
    yield Case("Latin-1 accents", "latin1.json", good.replace("Walks daily.", "Marché à pied.").encode("latin-1"))
    yield Case("invalid UTF-8 bytes", "badutf8.json", good.encode().replace(b"Walks", b"W\xc3\x28lks"))
    yield Case("a NUL byte in the text", "nul.json", good.encode().replace(b"Walks", b"Wa\x00lks"))
    yield Case("GBK text", "gbk.json", good.replace("Walks daily.", "每天散步").encode("gbk"))
    yield Case("BOM on every NDJSON line", "bomlines.ndjson",
               b"\n".join(b"\xef\xbb\xbf" + _dump(e["resource"]) for e in _good()["entry"]))


def _format_cases() -> Iterator[Case]:
    yield Case("FHIR XML where JSON is expected", "patient.json",
               b'<?xml version="1.0"?><Patient xmlns="http://hl7.org/fhir"><id value="p1"/></Patient>')
    yield Case("XML with entities (billion laughs)", "laughs.json",
               b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><l>&b;</l>')
    yield Case("an XML file named .xml", "export.xml", b"<?xml version='1.0'?><HealthData><Record/></HealthData>")
    yield Case("HTML", "page.json", b"<!doctype html><html><body>Sign in</body></html>")
    yield Case("CSV", "data.json", b"date,value\n2024-01-01,5\n")
    yield Case("YAML", "data.json", b"resourceType: Bundle\nentry: []\n")
    yield Case("an empty file", "empty.json", b"")
    yield Case("whitespace only", "blank.json", b"   \n\t\n ")
    yield Case("a PNG", "image.json", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    yield Case("a PDF", "scan.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    lines = [_dump(e["resource"]) for e in _good()["entry"]]
    yield Case("NDJSON with a bad line", "bulk.ndjson", b"\n".join([*lines[:2], b"{not json", *lines[2:]]))
    yield Case("NDJSON with an array line", "bulk2.ndjson", b"\n".join([lines[0], b"[1,2,3]"]))
    yield Case("NDJSON with CRLF and blank lines", "bulk3.ndjson", b"\r\n\r\n".join(lines) + b"\r\n")
    yield Case("NDJSON of scalars", "bulk4.ndjson", b"1\n2\n3\n")


# wrong types and impossible values inside resources ------------------------------------------------------------
WRONG = [None, 0, -1, 1.5, True, "", "x", [], [None], {}, {"a": 1}, [[[]]], "9" * 300]
FIELDS = {
    "Patient": ["id", "name", "birthDate", "gender"],
    "Observation": ["id", "code", "category", "valueQuantity", "effectiveDateTime", "subject", "component",
                    "referenceRange", "status", "resourceType"],
    "Condition": ["code", "onsetDateTime", "clinicalStatus"],
    "MedicationRequest": ["medicationReference", "authoredOn", "dosageInstruction"],
    "DocumentReference": ["content"],
}


def _wrong_type_cases() -> Iterator[Case]:
    base = _good()
    types = [e["resource"]["resourceType"] for e in base["entry"]]
    for rtype, fields in FIELDS.items():
        index = types.index(rtype)
        for field in fields:
            for value in WRONG[:: 2 if field not in ("birthDate", "effectiveDateTime") else 1]:
                doc = copy.deepcopy(base)
                doc["entry"][index]["resource"][field] = value
                yield Case(f"{rtype}.{field} = {json.dumps(value)[:16]}", "types.json", _dump(doc))
    for shape in ({"resourceType": "Bundle", "entry": {}}, {"resourceType": "Bundle", "entry": "x"},
                  {"resourceType": "Bundle", "entry": [1, "x", None, [], {"resource": 5}, {"fullUrl": {}}]},
                  {"resourceType": 7}, {"resourceType": None}, {"resourceType": ["Bundle"]}, {"entry": []},
                  {"resourceType": "Bundle", "entry": [{"fullUrl": {"a": 1}, "resource": F.patient()}]},
                  {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Bundle", "entry": [
                      {"resource": {"resourceType": "Bundle", "entry": "no"}}]}}]},
                  {"resourceType": "NotAType", "id": "z"}):
        yield Case(f"shape {json.dumps(shape)[:40]}", "shape.json", _dump(shape))


def _date_cases() -> Iterator[Case]:
    for when in ("9999-12-31", "9999-12-31T23:59:59-12:00", "0001-01-01", "1066-10-14", "20240502T101010",
                 "2024-13-45", "2024-02-30", "yesterday", "2024-05-02T25:61:00Z"):
        yield Case(f"lab dated {when}", "dates.json", _dump(F.bundle(F.patient(), F.a1c("o1", 6.0, when))))
    for born in ("garbage", "1980-02-30", "9999-12-31", "2999-01-01", "31/12/1980", "", "0000-00-00", "1980"):
        yield Case(f"birthDate {born!r}", "born.json", _dump(F.bundle(F.patient(born=born), F.a1c("o1", 6.0, "2024-05-02"))))


def corpus() -> list[Case]:
    """Every case, in a fixed order."""
    return [*_text_cases(), *_encoding_cases(), *_format_cases(), *_wrong_type_cases(), *_date_cases(),
            *_zip_cases()]
