//! The parts of the OpenAPI document that are the same for every route: how a caller signs in,
//! and the error answers every call can give (`{code, message, field}`, from `ApiFailure`).

use utoipa::Modify;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use crate::sessions::SESSION_COOKIE;

/// The two ways to carry a session: a bearer token, or the cookie sign-in sets.
pub struct SignIn;

impl Modify for SignIn {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
        );
    }
}

/// The failures any call can answer with, whatever the handler: its body is always an
/// `ApiError`. (A handler documents its own others, such as sign-in's 429.)
const FAILURES: [(&str, &str); 6] = [
    ("400", "Invalid body or query: `{code, message, field}`"),
    ("401", "No or expired session"),
    (
        "403",
        "Cookie session without X-CSRF-Token, or a role that may not do this",
    ),
    ("404", "Not found"),
    ("409", "Conflict (a name in use, ConnectWise not set up)"),
    (
        "502",
        "ConnectWise refused or could not be reached; its words in `message`",
    ),
];

/// The document as served, as pretty JSON: every operation given the common failures, each
/// answer a description, and the public operations an empty `security`.
pub fn finished(mut doc: OpenApi) -> String {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            // `security(())` makes `[{}]` ("a session or none"); `[]` says plainly that none is
            // asked.
            if op.security.as_deref() == Some(&[SecurityRequirement::default()][..]) {
                op.security = Some(Vec::new());
            }
            for answer in op.responses.responses.values_mut() {
                if let RefOr::T(a) = answer
                    && a.description.is_empty()
                {
                    a.description = "OK".to_owned();
                }
            }
            for (status, description) in FAILURES {
                let answer = ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ApiError")))
                            .build(),
                    )
                    .build();
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert(RefOr::T(answer));
            }
        }
    }
    // Serializing a document of plain maps and strings cannot fail; an empty one would be
    // noticed by every test of the document.
    doc.to_pretty_json().unwrap_or_default()
}

/// The `{id}` of a route, one type per kind of record, for the document.
macro_rules! id_paths {
    ($($name:ident: $id:ty, $what:literal;)*) => {$(
        #[derive(utoipa::IntoParams)]
        #[into_params(parameter_in = Path)]
        #[allow(dead_code)] // read by the document only: the handlers take `Path<$id>`
        pub struct $name {
            #[doc = $what]
            id: $id,
        }
    )*};
}

id_paths! {
    PolicyPath: crate::ids::PolicyId, "The policy's id";
    DevicePath: crate::ids::DeviceId, "The device's id";
    AlertPath: crate::ids::AlertId, "The alert's id";
    HelpPath: i64, "The help request's id";
    TokenPath: i64, "The enrollment token's id";
    IntegrationPath: crate::ids::IntegrationId, "The integration's id";
}
