"""Export everything held about a user, readable without this software: JSON files, a FHIR R4 Bundle and a
README that explains them. A folder, or a .zip when the output path ends in .zip."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from healthcoach.container import Stores
from healthcoach.errors import HealthCoachError
from healthcoach.privacy.audit import list_audit, write_audit
from healthcoach.privacy.consent import get_consent
from healthcoach.privacy.fhir_export import to_bundle
from healthcoach.records.models import STORE_FIELDS, Record
from healthcoach.store.schema import ConversationRow, IngestRow, MessageRow, TokenRow

README = """# Your healthcoach data export

Everything healthcoach held about profile `{user}` on {at}. Plain JSON (UTF-8); no healthcoach needed to read it.

| File | What it is |
|---|---|
| `profile.json` | Your profile: patient name and birth date taken from your records, the identities each source uses for you, region, consent flags, every consent change with its time, your record sources, ingest summaries (counts only), the number of API tokens. |
| `records.json` | Every record, one JSON object each: `category`, `label`, `codes` (LOINC, SNOMED, RxNorm, CVX, ...), `value` with `unit`, `components`, `reference_range`, `status`, `start`/`end`/`date` (clinical dates), `text` (notes, dosage), `source` (organisation, file, original resource id), `sources` (every source that states the same fact), `conflicts` (ids of records from another source that give a different value for the same test and time) and, where another source sent the same fact, `merged_records`: that source's own record and why it was recognised as the same. |
| `fhir_bundle.json` | The same records as a FHIR R4 `collection` Bundle (Patient, Observation, Condition, MedicationRequest, Immunization, ...). Import it into another FHIR app, or back into healthcoach: `healthcoach ingest fhir_bundle.json --user NAME`. |
| `conversations.json` | Your conversations with the coach: each question and answer with its time and the records it cited. |
| `audit.json` | The audit log: each question and the ids of the records read to answer it, consent changes, exports, deletions. |

Counts: {counts}.

Not included, because they are derived from your records and rebuilt on import: the search index (vector
embeddings of your records) and the embedding cache. API tokens are stored only as hashes and are not exported.
Records from wearables or manual entries appear in the FHIR Bundle as Observations.
This export contains health information: keep it somewhere private.
"""


class ExportError(HealthCoachError):
    """The export target cannot be written (e.g. a non-empty folder)."""

    status = 409


def export_user(stores: Stores, user_id: str, out: Path) -> Path:
    """Write everything held about a user to `out` (a new or empty folder, or a .zip file); return its path."""
    out = out.expanduser()
    files = collect(stores, user_id)
    if out.suffix.lower() == ".zip":
        if out.exists():
            raise ExportError(f"{out} already exists; choose a new file name")
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            _write_files(Path(tmp), files)
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                for name in files:
                    zf.write(Path(tmp) / name, name)
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ExportError(f"{out} is not an empty folder; choose a new one")
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(out, 0o700)
        _write_files(out, files)
    counts = json.loads(files["profile.json"])["counts"]
    with stores.records.session() as s:
        write_audit(s, user_id, "export", {"format": "zip" if out.suffix.lower() == ".zip" else "folder", **counts})
    return out


def collect(stores: Stores, user_id: str) -> dict[str, str]:
    """The export's files as {name: text} (NotFound for an unknown user)."""
    store = stores.records
    user = store.get_user(user_id)
    records = store.query(user_id)
    merged: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kind, shown, other, why in store.duplicates(user_id):
        if kind == "duplicate":
            merged[shown.id].append({"why": why, "record": other.model_dump(mode="json", exclude=set(STORE_FIELDS))})
    consent = get_consent(store, user_id)
    with store.session() as s:
        convs = list(s.scalars(select(ConversationRow).where(ConversationRow.user_id == user_id)
                               .order_by(ConversationRow.created_at)))
        msgs = list(s.scalars(select(MessageRow).where(MessageRow.user_id == user_id).order_by(MessageRow.id)))
        ingests = [{"at": r.at.isoformat(), "report": json.loads(r.report)}
                   for r in s.scalars(select(IngestRow).where(IngestRow.user_id == user_id).order_by(IngestRow.id))]
        tokens = len(list(s.scalars(select(TokenRow.token_hash).where(TokenRow.user_id == user_id))))
    by_conv: dict[str, list[dict[str, Any]]] = {c.id: [] for c in convs}
    for m in msgs:
        by_conv.setdefault(m.conversation_id, []).append(
            {"role": m.role, "text": m.text, "at": m.at.isoformat(), "reply": json.loads(m.reply) if m.reply else None})
    conversations = [{"id": c.id, "created_at": c.created_at.isoformat(), "messages": by_conv[c.id]} for c in convs]
    audit = [e.model_dump(mode="json") for e in list_audit(store, user_id)]
    counts = {"records": len(records), "conversations": len(conversations), "messages": len(msgs),
              "audit_entries": len(audit)}
    profile = {
        "user_id": user.id, "created_at": user.created_at.isoformat(), "patient_key": user.patient_key,
        "patient_name": user.patient_name, "birth_date": user.birth_date, "region": user.region,
        "consent": consent.model_dump(mode="json"),
        "identities": [{"key": p.key, "issuer": p.issuer, "name": p.name,
                        "birth_date": p.birth_date.isoformat() if p.birth_date else None}
                       for p in store.identities(user_id)],
        "sources": [{"kind": k, "file": f, "records": n} for k, f, n in store.sources(user_id)],
        "records_by_category": dict(Counter(str(r.category) for r in records)),
        "ingests": ingests, "api_tokens": tokens, "counts": counts,
    }
    return {
        "README.md": README.format(user=user_id, at=_now(), counts=", ".join(f"{v} {k}" for k, v in counts.items())),
        "profile.json": _dump(profile),
        "records.json": _dump([_record(r, merged.get(r.id)) for r in records]),
        "fhir_bundle.json": _dump(to_bundle(user, records)),
        "conversations.json": _dump(conversations),
        "audit.json": _dump(audit),
    }


def _record(rec: Record, merged: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A record as exported: what it says, every source that says it, and the merged copies."""
    body = rec.model_dump(mode="json")
    body["sources"] = [src.model_dump(mode="json") for src in rec.all_sources()]
    if merged:
        body["merged_records"] = merged
    return body


def _write_files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


__all__ = ["ExportError", "collect", "export_user"]
