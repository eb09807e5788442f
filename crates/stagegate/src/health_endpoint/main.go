package main

import (
	"encoding/json"
	"net/http"
	"os"
)

func healthz(w http.ResponseWriter, r *http.Request) {
	// Coolify sets SOURCE_COMMIT to the deployed commit in the container.
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"status": "ok", "commit": os.Getenv("SOURCE_COMMIT")})
}

func main() {
	http.HandleFunc("/healthz", healthz)
	http.ListenAndServe(":3000", nil)
}
