"""IngestReport: what an ingest did, in counts (no record content)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IngestReport(BaseModel):
    """What an ingest did, in counts (no record content)."""

    user_id: str
    files: list[str] = Field(description="Files read.")
    records_by_category: dict[str, int] = Field(description="Records in this ingest, by category.")
    resources_seen: dict[str, int] = Field(description="Source resources read, by type.")
    skipped: dict[str, int] = Field(description="Items not stored, by reason.")
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded: int = Field(0, description="Chunks encoded in this ingest (the rest came from the cache).")
    vectors_upserted: int = 0
    vectors_deleted: int = 0
    merged: int = Field(0, description="Stored records that repeat another source's record (shown once, with both "
                                       "sources).")
    conflicts: int = Field(0, description="Pairs of sources giving different values for the same test and time "
                                          "(both shown).")
    instruction_like: int = Field(
        0, description="Records whose text reads like an instruction (to the coach, or to change a "
        "treatment). They are stored as the source wrote them; the coach only ever quotes such text as the "
        "record's words.")
    warnings: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_records(self) -> int:
        return sum(self.records_by_category.values())
