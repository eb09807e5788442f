import os

from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    # Coolify sets SOURCE_COMMIT to the deployed commit in the container.
    return {"status": "ok", "commit": os.environ.get("SOURCE_COMMIT", "unknown")}
