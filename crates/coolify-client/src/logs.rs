//! The log lines of a deployment, read from Coolify's JSON-encoded `logs` field.

use crate::Deployment;

impl Deployment {
    /// The output of each log line, in Coolify's order, hidden lines left out; empty when
    /// Coolify sent no logs (they need a token with `read:sensitive`) or they do not parse.
    ///
    /// ```
    /// use coolify_client::Deployment;
    ///
    /// let deployment: Deployment = serde_json::from_value(serde_json::json!({
    ///     "deployment_uuid": "d1",
    ///     "status": "failed",
    ///     "logs": r#"[{"output":"Pulling","hidden":false},{"output":"Failed to start container: manifest unknown","hidden":false}]"#,
    /// }))
    /// .unwrap();
    /// assert_eq!(deployment.log_lines()[1], "Failed to start container: manifest unknown");
    /// ```
    #[must_use]
    pub fn log_lines(&self) -> Vec<String> {
        #[derive(serde::Deserialize)]
        struct Line {
            #[serde(default)]
            output: Option<String>,
            #[serde(default)]
            hidden: bool,
        }
        let Some(text) = self.logs.as_deref() else {
            return Vec::new();
        };
        serde_json::from_str::<Vec<Line>>(text)
            .map(|lines| {
                lines
                    .into_iter()
                    .filter(|line| !line.hidden)
                    .filter_map(|line| line.output)
                    .collect()
            })
            .unwrap_or_default()
    }
}
