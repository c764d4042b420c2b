from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit_platform.reports"
    label = "reports"

    def ready(self) -> None:
        # Registers the scan-finished hook (after-scan report e-mails).
        from audit_platform.reports import hooks  # noqa: F401, PLC0415
