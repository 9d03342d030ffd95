//! Webhook delivery: the JSON body signed with HMAC-SHA256 of the hook's secret, sent once per
//! job attempt; a failed attempt fails the job, and the job table retries it with exponential
//! backoff until its attempts run out.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Carries `sha256=<hex HMAC-SHA256(secret, body)>`, as GitHub's `X-Hub-Signature-256` does.
pub const SIGNATURE_HEADER: &str = "X-Bulwark-Signature";
/// Carries the event kind (`finding_new`, `sla_breach`, `policy_failure`...).
pub(crate) const EVENT_HEADER: &str = "X-Bulwark-Event";
/// Carries a delivery id that stays the same across retries, for receivers to deduplicate.
pub(crate) const DELIVERY_HEADER: &str = "X-Bulwark-Delivery";

/// A receiver gets this long to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header's value for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a delivery failed (kept as the job's last error).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeliveryError {
    #[error("webhook receiver answered HTTP {0}")]
    Status(u16),
    #[error("cannot reach the webhook receiver: {0}")]
    Transport(String),
}

/// Posts one signed delivery; blocking (run it on a blocking thread).
pub(crate) fn deliver(
    url: &str,
    secret: &str,
    event: &str,
    delivery_id: &str,
    body: &[u8],
) -> Result<(), DeliveryError> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, sign(secret.as_bytes(), body))
        .header(EVENT_HEADER, event)
        .header(DELIVERY_HEADER, delivery_id)
        .send(body)
        .map_err(|e| DeliveryError::Transport(e.to_string()))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(DeliveryError::Status(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
