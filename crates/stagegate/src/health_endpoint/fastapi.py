import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    # Coolify sets SOURCE_COMMIT to the deployed commit in the container.
    return {"status": "ok", "commit": os.environ.get("SOURCE_COMMIT", "unknown")}
