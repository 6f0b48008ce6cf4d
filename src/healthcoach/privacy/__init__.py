"""Your data, your rules: consent, export, delete, disconnect and the audit log.

Service functions only; the CLI (cli/data.py), the API and the UI call these and hold no logic of their own.
"""

from healthcoach.privacy.audit import AuditEntry, list_audit, write_audit
from healthcoach.privacy.consent import ConsentEvent, ConsentState, get_consent, set_consent
from healthcoach.privacy.delete import DeleteReport, DisconnectReport, delete_user, disconnect_source
from healthcoach.privacy.export import ExportError, export_user

__all__ = [
    "AuditEntry", "ConsentEvent", "ConsentState", "DeleteReport", "DisconnectReport", "ExportError",
    "delete_user", "disconnect_source", "export_user", "get_consent", "list_audit", "set_consent", "write_audit",
]
