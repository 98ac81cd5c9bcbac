"""Does an image exist in its registry? Asked over the Docker Registry HTTP API v2 (no Docker engine needed).

``HEAD /v2/<repository>/manifests/<tag>``: 200 means it exists, 404 that it does not. A 401 with a
``WWW-Authenticate: Bearer`` challenge is answered with a registry token; for Google registries
(``*-docker.pkg.dev``, ``gcr.io``) the token request carries the Application Default Credentials, as
``docker login -u oauth2accesstoken`` would. Registries on loopback addresses are spoken to over plain HTTP,
as Docker does.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from bigflow.api import BigflowError

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
_LOOPBACK = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$")


@dataclass(frozen=True)
class ImageRef:
    registry: str  # host[:port]
    repository: str
    reference: str  # tag or digest

    @classmethod
    def parse(cls, image: str) -> ImageRef:
        name, reference = image, "latest"
        if "@" in name:
            name, reference = name.split("@", 1)
        elif ":" in name.rsplit("/", 1)[-1]:
            name, reference = name.rsplit(":", 1)
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return cls(first, rest, reference)
        return cls("registry-1.docker.io", name if rest else f"library/{name}", reference)

    @property
    def base_url(self) -> str:
        scheme = "http" if _LOOPBACK.match(self.registry) else "https"
        return f"{scheme}://{self.registry}"


def _reason(error: BaseException, timeout: float) -> str:
    """Why a request failed, in words: ``no answer within 15 s`` for a timeout (connect or read)."""
    reason = getattr(error, "reason", error)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"no answer within {timeout:g} s"
    return str(reason)


def _google_token() -> str | None:
    """An access token from Application Default Credentials, or None when there are none."""
    from bigflow.api import adc_access_token

    try:
        return adc_access_token()
    except Exception:  # noqa: BLE001 - no ADC: ask anonymously, the registry's answer says the rest
        return None


def _bearer_token(challenge: str, ref: ImageRef, timeout: float) -> str:
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm = params.pop("realm", None)
    if not realm:
        raise BigflowError(f"registry {ref.registry} asked for authentication it does not describe: {challenge!r}")
    params.setdefault("scope", f"repository:{ref.repository}:pull")
    request = urllib.request.Request(f"{realm}?{urllib.parse.urlencode(params)}")
    if ref.registry.endswith(("docker.pkg.dev", "gcr.io")):
        token = _google_token()
        if token:
            basic = base64.b64encode(f"oauth2accesstoken:{token}".encode()).decode()
            request.add_header("Authorization", f"Basic {basic}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise BigflowError(f"cannot get a token from registry {ref.registry} to check the image ({realm}): "
                           f"{_reason(error, timeout)}") from None
    return body.get("token") or body.get("access_token") or ""


def image_digest(image: str, *, timeout: float = 15.0) -> str | None:
    """The manifest digest of ``image`` in its registry, or None when the registry says it does not exist.

    Unreachable registries and refused credentials are one-line ``BigflowError``s.
    """
    ref = ImageRef.parse(image)
    url = f"{ref.base_url}/v2/{ref.repository}/manifests/{ref.reference}"
    headers = {"Accept": MANIFEST_TYPES}
    for attempt in range(2):
        request = urllib.request.Request(url, method="HEAD", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.headers.get("Docker-Content-Digest") or "unknown"
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            challenge = error.headers.get("WWW-Authenticate", "")
            if error.code == 401 and attempt == 0 and challenge.lower().startswith("bearer"):
                headers["Authorization"] = f"Bearer {_bearer_token(challenge, ref, timeout)}"
                continue
            if error.code in (401, 403):
                raise BigflowError(f"registry {ref.registry} refused to show {image} (HTTP {error.code}); "
                                   "check the credentials (gcloud auth application-default login) and that "
                                   "they may read the repository") from None
            raise BigflowError(f"registry {ref.registry} answered HTTP {error.code} for {image}") from None
        except (urllib.error.URLError, OSError) as error:
            raise BigflowError(f"registry {ref.registry} is unreachable to check {image} ({ref.base_url}): "
                               f"{_reason(error, timeout)}") from None
    raise BigflowError(f"registry {ref.registry} refused the token it issued for {image}")


def require_image(image: str) -> str:
    """The image's digest; a one-line error when the image is not in the registry."""
    digest = image_digest(image)
    if digest is None:
        raise BigflowError(f"image {image} is not in its registry; push it first (bigflow deploy image), "
                           "then deploy the DAGs")
    return digest
