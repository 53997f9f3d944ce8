//! What a refused enrollment does to its token.

use super::*;

/// A refused re-enrollment (a known agent id without its credential) gives the token's use
/// back: it must not use up one of the machines the token was made for.
#[tokio::test]
async fn a_refused_enrollment_does_not_use_up_a_token() {
    let s = server().await;
    let policy = s.state.store.policies().await.unwrap()[0].clone();
    let (_, two) = s
        .state
        .store
        .create_token(policy.id, "two machines", None, Some(2))
        .await
        .unwrap();
    let enroll = |agent: &str| {
        json!({"token": two, "agentId": agent, "agentVersion": "0.1.0", "facts": {"name": agent}})
            .to_string()
    };
    let (status, reply) = s.post("/enroll", None, enroll("m-1")).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    for _ in 0..3 {
        let (status, reply) = s.post("/enroll", None, enroll("m-1")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    }
    let (status, reply) = s.post("/enroll", None, enroll("m-2")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the second machine still enrolls: {reply}"
    );
    let (status, _) = s.post("/enroll", None, enroll("m-3")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a third is past the token's two"
    );
    let used = s.state.store.tokens(policy.id).await.unwrap();
    let t = used.iter().find(|t| t.label == "two machines").unwrap();
    assert_eq!(t.uses, 2);
}
