"""Settings of the checkin service: its own knobs under VENUECODE_CHECKIN_, infrastructure shared."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings

# The reverse scan's QR decoder where the browser has no BarcodeDetector (iOS Safari, WeChat on
# iOS): jsQR's self-contained UMD build, as `npm ci` installs it from package-lock.json. It is
# served from node_modules, never copied into the repository nor loaded from a CDN. jsQR, not
# @zxing/browser: zxing-js read none of about one health code in twelve, however often it looked
# (zxing-js/library#653; tests/browser/test_qr_decoder.py reads 80 codes at two sizes).
QR_DECODER = Path(__file__).resolve().parents[2] / "node_modules/jsqr/dist/jsQR.js"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENUECODE_CHECKIN_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    # How often each process reads checkin.changes to forget stale venues and families
    # (services/checkin/memory.py): a registry change reaches scans within this.
    readmodel_poll_s: float = 0.5
    # The registry and status read-model consumers. Off in the HTTP pods of a large deployment
    # (k8s: a small Deployment of their own runs them), so that every autoscaler step does not
    # rebalance the two groups; the read model is in Postgres, which every pod reads.
    readmodel_consumer: bool = True
    # Where that file is (the image sets it: deploy/Dockerfile); when it is missing the page
    # still works with BarcodeDetector, a wedge scanner or pasting, and says the camera cannot.
    qr_decoder: Path = QR_DECODER
