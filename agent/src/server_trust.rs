//! Which server certificates the agent trusts when it was given a CA of the MSP's own
//! (`enroll --ca-cert`, the MSI's `CA_CERT`): a chain to that CA, or else one the operating
//! system trusts, each checked by its own verifier.
//!
//! Why not hand the CA to the platform verifier as an extra root (reqwest's `tls_certs_merge`):
//! on Windows that builds a custom certificate-chain engine, which Wine lacks and which some
//! hardened Windows builds refuse too, so the agent could not even start its HTTP client. Two
//! verifiers side by side mean the same ("trusted too", never "trusted only") on every OS, and
//! the system's roots stay the system's business (its stores, policies and revocation).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The certificates of a PEM file given as a CA: at least one, or an error saying what is wrong.
pub fn parse_ca(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the CA certificate is not PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the CA file holds no certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

/// A TLS client configuration trusting `own_ca` besides the system's roots.
pub fn config_trusting(
    own_ca: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(own_ca);
    if added == 0 {
        return Err("the CA file holds no usable certificate".into());
    }
    let own = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("cannot use the CA certificate: {e}"))?;
    let system = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| format!("cannot read the system's trusted roots: {e}"))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(OwnCaOrSystem {
            own,
            system: Arc::new(system),
        }))
        .with_no_client_auth();
    // What reqwest sets for its own configurations (this build speaks HTTP/1.1 only).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[derive(Debug)]
struct OwnCaOrSystem {
    own: Arc<WebPkiServerVerifier>,
    system: Arc<dyn ServerCertVerifier>,
}

impl ServerCertVerifier for OwnCaOrSystem {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The own CA first: checked here, without the system's (possibly networked) checks.
        let own =
            self.own
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let Err(own_error) = own else {
            return own;
        };
        let system = self.system.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match system {
            Ok(v) => Ok(v),
            // A chain to the own CA that failed for another reason (expired, wrong name) says
            // more than the system's "unknown issuer".
            Err(_) if chains_to_own_ca(&own_error) => Err(own_error),
            Err(system_error) => Err(system_error),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.own.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.own.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.own.supported_verify_schemes()
    }
}

/// Did the own-CA check get as far as the CA (anything but "unknown issuer")?
fn chains_to_own_ca(error: &rustls::Error) -> bool {
    !matches!(
        error,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    )
}

#[cfg(test)]
mod tests {
    use super::parse_ca;

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        assert!(parse_ca("").unwrap_err().contains("no certificate"));
        let key =
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        assert!(parse_ca(key).unwrap_err().contains("no certificate"));
        let broken = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(parse_ca(broken).is_err());
    }
}
