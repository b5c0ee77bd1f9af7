//! The TPM backend: measurements and quotes through the TSS Enhanced System API.
//!
//! It works with any TPM 2.0 the TSS can reach; the tests and the node use `swtpm`, a software
//! TPM, so its evidence is labelled [`RootOfTrust::Software`].

use std::str::FromStr;

use tss_esapi::Context;
use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::handles::{KeyHandle, PcrHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Data, Digest, DigestValues, EccPoint, EccScheme, HashScheme, KeyDerivationFunctionScheme,
    PcrSelectionListBuilder, PcrSlot, Public, PublicBuilder, PublicEccParametersBuilder, Signature,
    SignatureScheme, SymmetricDefinitionObject,
};
use tss_esapi::tcti_ldr::TctiNameConf;
use tss_esapi::traits::Marshall;

use crate::{
    AttestError, Attester, Evidence, Measurement, MeasurementLog, PCR_BINARY, PCR_CONFIG,
    RootOfTrust,
};

/// An attester backed by a TPM 2.0 reached through a TCTI (for swtpm:
/// `swtpm:host=127.0.0.1,port=PORT`).
///
/// On [`SwtpmAttester::measure`] it resets the two resettable PCRs it uses (16 and 23), so the
/// log it keeps is the whole history of those registers.
pub struct SwtpmAttester {
    context: Context,
    ak: KeyHandle,
    ak_public: Vec<u8>,
    log: MeasurementLog,
}

impl std::fmt::Debug for SwtpmAttester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwtpmAttester")
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

impl Drop for SwtpmAttester {
    fn drop(&mut self) {
        // Free the attestation key's transient slot: without a resource manager (swtpm on a
        // socket) it would outlive the connection, and a TPM has only a few such slots.
        let _ = self.context.flush_context(self.ak.into());
    }
}

fn tpm(e: tss_esapi::Error) -> AttestError {
    AttestError::Tpm(e.to_string())
}

fn slot(pcr: u8) -> Result<(PcrHandle, PcrSlot), AttestError> {
    match pcr {
        PCR_BINARY => Ok((PcrHandle::Pcr16, PcrSlot::Slot16)),
        PCR_CONFIG => Ok((PcrHandle::Pcr23, PcrSlot::Slot23)),
        _ => Err(AttestError::Tpm(format!(
            "PCR {pcr} is not one this attester uses"
        ))),
    }
}

/// A restricted ECDSA P-256 signing key: it signs only TPM-generated structures (quotes), so a
/// caller cannot make it sign a forged `TPMS_ATTEST` (TPM 2.0 Part 1 §25.2.3).
fn ak_template() -> Result<Public, tss_esapi::Error> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_sign_encrypt(true)
        .with_decrypt(false)
        .with_restricted(true)
        .build()?;
    let params = PublicEccParametersBuilder::new()
        .with_ecc_scheme(EccScheme::EcDsa(HashScheme::new(HashingAlgorithm::Sha256)))
        .with_curve(EccCurve::NistP256)
        .with_is_signing_key(true)
        .with_is_decryption_key(false)
        .with_restricted(true)
        .with_symmetric(SymmetricDefinitionObject::Null)
        .with_key_derivation_function_scheme(KeyDerivationFunctionScheme::Null)
        .build()?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Ecc)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_ecc_parameters(params)
        .with_ecc_unique_identifier(EccPoint::default())
        .build()
}

fn left_pad_32(v: &[u8]) -> Result<[u8; 32], AttestError> {
    if v.len() > 32 {
        return Err(AttestError::Tpm(
            "ECC coordinate longer than 32 bytes".to_owned(),
        ));
    }
    let mut out = [0u8; 32];
    out[32 - v.len()..].copy_from_slice(v);
    Ok(out)
}

impl SwtpmAttester {
    /// Connects to the TPM and creates the attestation key under the owner hierarchy.
    pub fn connect(tcti: &str) -> Result<SwtpmAttester, AttestError> {
        let conf = TctiNameConf::from_str(tcti).map_err(tpm)?;
        let mut context = Context::new(conf).map_err(tpm)?;
        let template = ak_template().map_err(tpm)?;
        let created = context
            .execute_with_nullauth_session(|ctx| {
                ctx.create_primary(Hierarchy::Owner, template, None, None, None, None)
            })
            .map_err(tpm)?;
        let ak_public = match created.out_public {
            Public::Ecc { unique, .. } => {
                let mut sec1 = vec![0x04];
                sec1.extend(left_pad_32(unique.x().value())?);
                sec1.extend(left_pad_32(unique.y().value())?);
                sec1
            }
            _ => {
                return Err(AttestError::Tpm(
                    "attestation key is not an ECC key".to_owned(),
                ));
            }
        };
        Ok(SwtpmAttester {
            context,
            ak: created.key_handle,
            ak_public,
            log: MeasurementLog::default(),
        })
    }

    /// Resets PCRs 16 and 23, then measures `binary` into PCR 16 and `config` into PCR 23.
    pub fn measure(&mut self, binary: &[u8], config: &[u8]) -> Result<(), AttestError> {
        let b = Measurement::of(PCR_BINARY, "binary", binary);
        let c = Measurement::of(PCR_CONFIG, "config", config);
        self.measure_digests(b.digest, c.digest)
    }

    /// Like [`SwtpmAttester::measure`], from the SHA-256 digests of the binary and the config
    /// (a node hashes its binary file without holding it in memory).
    pub fn measure_digests(
        &mut self,
        binary: [u8; 32],
        config: [u8; 32],
    ) -> Result<(), AttestError> {
        self.log = MeasurementLog::default();
        for pcr in [PCR_BINARY, PCR_CONFIG] {
            let (handle, _) = slot(pcr)?;
            self.context
                .execute_with_session(Some(AuthSession::Password), |ctx| ctx.pcr_reset(handle))
                .map_err(tpm)?;
        }
        self.extend(Measurement {
            pcr: PCR_BINARY,
            label: "binary".to_owned(),
            digest: binary,
        })?;
        self.extend(Measurement {
            pcr: PCR_CONFIG,
            label: "config".to_owned(),
            digest: config,
        })
    }

    /// Extends one measurement into its PCR and records it in the log.
    pub fn extend(&mut self, m: Measurement) -> Result<(), AttestError> {
        let (handle, _) = slot(m.pcr)?;
        let mut values = DigestValues::new();
        values.set(
            HashingAlgorithm::Sha256,
            Digest::try_from(m.digest.to_vec()).map_err(tpm)?,
        );
        self.context
            .execute_with_session(Some(AuthSession::Password), |ctx| {
                ctx.pcr_extend(handle, values)
            })
            .map_err(tpm)?;
        self.log.push(m);
        Ok(())
    }

    /// The attestation key, SEC1 uncompressed: what a membership list pins.
    pub fn ak_public(&self) -> &[u8] {
        &self.ak_public
    }

    /// The measurements made so far.
    pub fn log(&self) -> &MeasurementLog {
        &self.log
    }
}

impl Attester for SwtpmAttester {
    fn attest(&mut self, nonce: &[u8]) -> Result<Evidence, AttestError> {
        if !(16..=64).contains(&nonce.len()) {
            return Err(AttestError::Nonce(nonce.len()));
        }
        let mut slots = Vec::new();
        for (pcr, _) in self.log.replay() {
            slots.push(slot(pcr)?.1);
        }
        let selection = PcrSelectionListBuilder::new()
            .with_selection(HashingAlgorithm::Sha256, &slots)
            .build()
            .map_err(tpm)?;
        let data = Data::try_from(nonce.to_vec()).map_err(tpm)?;
        let ak = self.ak;
        let (attest, signature) = self
            .context
            .execute_with_nullauth_session(|ctx| {
                ctx.quote(ak, data, SignatureScheme::Null, selection)
            })
            .map_err(tpm)?;
        let attest = attest.marshall().map_err(tpm)?;
        let signature = match signature {
            Signature::EcDsa(sig) => {
                let mut rs = [0u8; 64];
                rs[..32].copy_from_slice(&left_pad_32(sig.signature_r().value())?);
                rs[32..].copy_from_slice(&left_pad_32(sig.signature_s().value())?);
                rs
            }
            _ => return Err(AttestError::Tpm("quote not signed with ECDSA".to_owned())),
        };
        Ok(Evidence {
            attest,
            signature,
            ak_public: self.ak_public.clone(),
            log: self.log.clone(),
            root_of_trust: RootOfTrust::Software,
        })
    }
}
