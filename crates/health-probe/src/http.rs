//! One HTTP exchange: send the request, follow redirects if allowed, read a bounded body.

use std::{error::Error as _, io, time::Duration};

use reqwest::{Client, Response, header};

use crate::{Failure, ProbeSpec};

/// The most of a body that is read; past it the body counts as truncated and the connection
/// is not reused.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What came back from one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
    /// The body was longer than [`MAX_BODY_BYTES`] and was cut.
    pub(crate) body_cut: bool,
}

/// Sends one request for `spec`, following at most `spec.max_redirects()` redirects.
///
/// Spec headers go only to the spec's origin: once a redirect leaves it, none are sent, not
/// even back on the original origin.
pub(crate) async fn exchange(client: &Client, spec: &ProbeSpec) -> Result<Answer, Failure> {
    let origin = spec.url().origin();
    let mut url = spec.url().clone();
    let mut redirects_left = spec.max_redirects();
    let mut same_origin = true;
    loop {
        let mut request = client.request(spec.method().to_reqwest(), url.clone());
        if same_origin {
            request = request.headers(spec.headers().clone());
        }
        let response = request.send().await.map_err(|error| classify(&error))?;
        let status = response.status();
        if status.is_redirection() && spec.max_redirects() > 0 {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            // Drain the small redirect body so the connection can be reused.
            let _ = read_body(response).await;
            let Some(location) = location else {
                return Err(Failure::Redirect {
                    detail: format!("{status} without a Location header"),
                });
            };
            if redirects_left == 0 {
                return Err(Failure::Redirect {
                    detail: format!(
                        "more than {} redirect(s), the last to {location}",
                        spec.max_redirects()
                    ),
                });
            }
            let next = url.join(&location).map_err(|error| Failure::Redirect {
                detail: format!("Location `{location}` is not a url: {error}"),
            })?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(Failure::Redirect {
                    detail: format!("to a non-http url {next}"),
                });
            }
            tracing::debug!(from = %url, to = %next, "following redirect");
            same_origin = same_origin && next.origin() == origin;
            url = next;
            redirects_left -= 1;
            continue;
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        let (body, body_cut) = read_body(response).await?;
        return Ok(Answer {
            status: status.as_u16(),
            retry_after,
            body,
            body_cut,
        });
    }
}

async fn read_body(mut response: Response) -> Result<(Vec<u8>, bool), Failure> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| classify(&error))? {
        let room = MAX_BODY_BYTES - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// Sorts a transport error into the evidence classes.
fn classify(error: &reqwest::Error) -> Failure {
    let mut source = error.source();
    while let Some(inner) = source {
        if let Some(io_error) = inner.downcast_ref::<io::Error>()
            && io_error.kind() == io::ErrorKind::ConnectionRefused
        {
            return Failure::ConnectionRefused;
        }
        source = inner.source();
    }
    Failure::Connection {
        detail: chain(error),
    }
}

fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// `Retry-After` as delay-seconds or an HTTP date (IMF-fixdate, e.g.
/// `Wed, 21 Oct 2015 07:28:00 GMT`); a date in the past is no wait.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = parse_http_date(value)?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn parse_http_date(value: &str) -> Option<std::time::SystemTime> {
    // `Wed, 21 Oct 2015 07:28:00 GMT`
    let mut parts = value.split_ascii_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: u32 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    humantime::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{time}Z")).ok()
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-3"), None);
    }

    #[test]
    fn retry_after_http_dates() {
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            humantime::parse_rfc3339("2015-10-21T07:28:00Z").ok()
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let future = SystemTime::now() + Duration::from_secs(3600);
        let text = httpdate_like(future);
        let wait = parse_retry_after(&text).unwrap();
        assert!(
            wait > Duration::from_secs(3500) && wait <= Duration::from_secs(3600),
            "{wait:?}"
        );
        assert_eq!(parse_http_date("Wed, 21 Oct 2015 07:28:00 CET"), None);
        assert_eq!(parse_http_date("21 Oct 2015"), None);
    }

    fn httpdate_like(time: SystemTime) -> String {
        // humantime renders `2015-10-21T07:28:00Z`; rebuild the IMF-fixdate form from it.
        let text = humantime::format_rfc3339_seconds(time).to_string();
        let (date, clock) = text.trim_end_matches('Z').split_once('T').unwrap();
        let mut fields = date.split('-');
        let (year, month, day) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = months[month.parse::<usize>().unwrap() - 1];
        format!("Mon, {day} {month} {year} {clock} GMT")
    }
}
