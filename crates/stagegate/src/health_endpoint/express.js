const express = require("express");

const app = express();

app.get("/healthz", (req, res) => {
  // Coolify sets SOURCE_COMMIT to the deployed commit in the container.
  res.json({ status: "ok", commit: process.env.SOURCE_COMMIT ?? "unknown" });
});

app.listen(process.env.PORT ?? 3000);
