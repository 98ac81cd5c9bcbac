"""Google Cloud credentials shared by core and plugins (google-auth is imported only when called)."""

from __future__ import annotations

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def adc_access_token() -> str:
    """A fresh OAuth access token from Application Default Credentials (kept in memory only).

    Raises ``ImportError`` without google-auth and google-auth's errors without credentials.
    """
    import google.auth
    import google.auth.transport.requests

    credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    credentials.refresh(google.auth.transport.requests.Request())
    return credentials.token
