//! Sending a request and reading its body in one step.

use std::future::Future;

use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;

/// Sends a request and reads its body, whatever the status. Panics if the
/// server does not answer or the body is not what was asked for.
pub trait Fetch {
    /// The body as text.
    fn fetch_text(self) -> impl Future<Output = String> + Send;

    /// The body as JSON of type `T`.
    fn fetch_json<T: DeserializeOwned>(self) -> impl Future<Output = T> + Send;
}

impl Fetch for RequestBuilder {
    async fn fetch_text(self) -> String {
        let response = self.send().await.expect("an answer");
        response.text().await.expect("a text body")
    }

    async fn fetch_json<T: DeserializeOwned>(self) -> T {
        let response = self.send().await.expect("an answer");
        response
            .json()
            .await
            .expect("a JSON body of the expected shape")
    }
}
