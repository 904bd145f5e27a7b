//! FHIR → HL7 v3: the Bundle's `MessageHeader.eventCoding.code` picks the message, and one
//! module per HL7 v3 message part builds its piece of the tree.
//!
//! | event code | HL7 v3 interaction | module |
//! |---|---|---|
//! | `prescription-order` | `PORX_IN020101SM31` ParentPrescription | [`parent_prescription`] |
//! | `prescription-order-update` | `PORX_IN030101SM32` CancellationRequest | [`cancellation`] |
//! | `dispense-notification` | `PORX_IN080101SM31` DispenseNotification | [`dispense_notification`] |
//!
//! A dispensing message that is not a Bundle is chosen by its resource type:
//!
//! | input | HL7 v3 interaction | module |
//! |---|---|---|
//! | `Parameters` (release request) | `PORX_IN060102SM30` / `PORX_IN132004SM30` | [`release`] |
//! | `Task`, `status` `rejected` (return) | `PORX_IN100101SM31` DispenseProposalReturn | [`dispense_return`] |
//! | `Task`, `status` `in-progress` (withdrawal) | `PORX_IN510101SM31` ETPWithdraw | [`withdraw`] |
//! | `Claim` | `PORX_IN090101SM31` DispenseClaim | [`claim`] |

pub mod agent_person;
pub mod cancellation;
pub mod claim;
pub mod common;
pub mod dispense_notification;
pub mod dispense_return;
pub mod dispenser;
pub mod line_item;
pub mod message;
pub mod parent_prescription;
pub mod patient;
pub mod prescription;
pub mod release;
pub mod report;
pub mod signature;
pub mod supply;
pub mod task;
pub mod validation;
pub mod withdraw;

use crate::context::Context;
use crate::error::{Issue, IssueCode, Rejection};
use crate::fhir::*;
use crate::hl7v3::{writer, Element};
use common::{invalid, Result};

/// Event code of a new prescription.
pub const PRESCRIPTION_ORDER: &str = "prescription-order";
/// Event code of a cancellation.
pub const PRESCRIPTION_ORDER_UPDATE: &str = "prescription-order-update";

/// The outcome of a successful translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The HL7 v3 message, pretty-printed, with a trailing newline.
    pub xml: String,
    /// Warnings (severity `warning`) about input that was translated anyway.
    pub issues: Vec<Issue>,
    /// FHIRPaths of data in the Bundle that the HL7 v3 message has no place for.
    pub not_carried: Vec<String>,
}

/// A translated message as a tree, before writing.
#[derive(Debug, Clone)]
pub struct Translated {
    pub root: Element,
    pub issues: Vec<Issue>,
}

/// How much of the message a translation builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole message, as `convert` writes it.
    Message,
    /// What `$prepare` reads: for a prescription-order, the `ParentPrescription` alone (no
    /// send wrapper), with no `signatureText` under its author. A signature the Bundle
    /// already carries is still decoded and parsed, so every Bundle `convert` refuses for
    /// it is refused here too; it is only not built into the tree, which is not a
    /// complete message and is never written.
    SignedParts,
}

/// The Bundle with lookups that fail with a FHIRPath.
pub struct Input<'b, 'a> {
    pub bundle: &'b Bundle<'a>,
    /// The Bundle's JSON text, for the rare checks that need the input as written.
    pub text: &'b str,
    pub ctx: &'b Context,
    pub scope: Scope,
}

impl<'b, 'a> Input<'b, 'a> {
    /// The one resource of a type, with its entry index.
    pub fn only<T>(
        &self,
        type_name: &str,
        pick: impl Fn(&'b Resource<'a>) -> Option<&'b T>,
    ) -> Result<(usize, &'b T)> {
        let mut found = self
            .bundle
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| pick(&e.resource).map(|r| (i, r)));
        let first = found.next().ok_or_else(|| {
            Rejection::at(
                IssueCode::Invalid,
                "Bundle.entry",
                format!("Too few values submitted. Expected 1 element where resource.resourceType == '{type_name}'."),
            )
        })?;
        if found.next().is_some() {
            return Err(invalid(
                "Bundle.entry",
                format!("Too many values submitted. Expected 1 element where resource.resourceType == '{type_name}'."),
            ));
        }
        Ok(first)
    }

    pub fn message_header(&self) -> Result<(usize, &'b MessageHeader<'a>)> {
        self.only("MessageHeader", |r| match r {
            Resource::MessageHeader(m) => Some(m),
            _ => None,
        })
    }

    pub fn only_patient(&self) -> Result<(usize, &'b Patient<'a>)> {
        self.only("Patient", |r| match r {
            Resource::Patient(p) => Some(p),
            _ => None,
        })
    }

    /// Every MedicationRequest, in entry order.
    pub fn medication_requests(&self) -> Vec<(usize, &'b MedicationRequest<'a>)> {
        self.all(|r| match r {
            Resource::MedicationRequest(m) => Some(&**m),
            _ => None,
        })
    }

    /// Every resource of one kind, in entry order.
    pub fn all<T>(&self, pick: impl Fn(&'b Resource<'a>) -> Option<&'b T>) -> Vec<(usize, &'b T)> {
        self.bundle
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| pick(&e.resource).map(|r| (i, r)))
            .collect()
    }

    /// Resolves a reference found at `path`, or fails saying which reference is dangling.
    pub fn resolve(
        &self,
        reference: &Reference<'_>,
        path: &str,
    ) -> Result<(usize, &'b Resource<'a>)> {
        if let Some(url) = reference.reference.as_deref() {
            let same_url = self.bundle.entries.iter();
            if same_url
                .filter(|e| e.full_url.as_deref() == Some(url))
                .count()
                > 1
            {
                return Err(invalid(
                    path,
                    format!(
                        "Too many values submitted. Expected 1 element where fullUrl == '{url}'."
                    ),
                ));
            }
        }
        self.bundle.resolve(reference).ok_or_else(|| {
            let what = reference
                .reference
                .as_deref()
                .map(|r| format!("fullUrl == '{r}'"))
                .or_else(|| {
                    reference.identifier.as_ref().map(|i| {
                        format!(
                            "identifier == '{}|{}'",
                            i.system.as_deref().unwrap_or(""),
                            i.value.as_deref().unwrap_or("")
                        )
                    })
                })
                .unwrap_or_else(|| "a reference".to_string());
            Rejection::at(
                IssueCode::Invalid,
                path,
                format!("Too few values submitted. Expected 1 element where {what}."),
            )
        })
    }

    /// Resolves a reference that must point at one resource type.
    pub fn resolve_as<T>(
        &self,
        reference: &Reference<'_>,
        path: &str,
        type_name: &str,
        pick: impl Fn(&'b Resource<'a>) -> Option<&'b T>,
    ) -> Result<(usize, &'b T)> {
        let (i, r) = self.resolve(reference, path)?;
        pick(r).map(|t| (i, t)).ok_or_else(|| {
            invalid(
                path,
                format!(
                    "reference points at a {} where a {type_name} is expected",
                    r.type_name()
                ),
            )
        })
    }
}

/// Translates a parsed Bundle into its HL7 v3 message tree.
pub fn translate_bundle(bundle: &Bundle<'_>, text: &str, ctx: &Context) -> Result<Translated> {
    translate_scoped(bundle, text, ctx, Scope::Message)
}

/// Translates a parsed Bundle, building the part of the tree `scope` asks for. The same
/// checks run, and the same Bundles are refused, whatever the scope.
pub fn translate_scoped(
    bundle: &Bundle<'_>,
    text: &str,
    ctx: &Context,
    scope: Scope,
) -> Result<Translated> {
    let input = Input {
        bundle,
        text,
        ctx,
        scope,
    };
    message_bundle(bundle)?;
    let (index, header) = input.message_header()?;
    let path = format!("Bundle.entry[{index}].resource.eventCoding.code");
    match header.event_coding.as_ref().and_then(|c| c.code.as_deref()) {
        Some(PRESCRIPTION_ORDER) => parent_prescription::translate(&input),
        Some(PRESCRIPTION_ORDER_UPDATE) => cancellation::translate(&input),
        Some(DISPENSE_NOTIFICATION) => match scope {
            Scope::Message => dispense_notification::translate(&input),
            // $prepare signs prescriptions: a dispense notification has nothing to sign.
            Scope::SignedParts => Err(Rejection::at(
                IssueCode::NotSupported,
                path,
                "a dispense-notification is not signed: $prepare takes 'prescription-order' or 'prescription-order-update'",
            )),
        },
        _ => Err(unknown_event_code()),
    }
}

/// Runs only the validation of a prescription-order or prescription-order-update Bundle (no
/// translation): its warnings, or the refusal.
pub fn validate(bundle: &Bundle<'_>, text: &str, ctx: &Context) -> Result<Vec<Issue>> {
    let input = Input {
        bundle,
        text,
        ctx,
        scope: Scope::SignedParts,
    };
    message_bundle(bundle)?;
    let (_, header) = input.message_header()?;
    match header.event_coding.as_ref().and_then(|c| c.code.as_deref()) {
        Some(PRESCRIPTION_ORDER) => validation::prescription_order(&input),
        Some(PRESCRIPTION_ORDER_UPDATE) => validation::cancellation(&input),
        _ => Err(unknown_event_code()),
    }
}

/// Event code of a dispense notification.
pub const DISPENSE_NOTIFICATION: &str = "dispense-notification";

/// The refusal of an absent or unknown `MessageHeader.eventCoding.code`, in the reference's
/// words (which list the EPS message Bundles, the dispensing one included).
pub fn unknown_event_code() -> Rejection {
    Rejection::at(
        IssueCode::Value,
        "Bundle.entry.resource.ofType(MessageHeader).eventCoding.code",
        "MessageHeader.eventCoding.code must be one of: prescription-order, prescription-order-update, dispense-notification.",
    )
}

/// Only a `message` Bundle is a message: a `collection`, `document` or untyped Bundle holding
/// the same resources is refused rather than sent on as a prescription (the reference
/// translates it whatever its type).
fn message_bundle(bundle: &Bundle<'_>) -> Result<()> {
    match bundle.type_.as_deref() {
        Some("message") => Ok(()),
        Some(other) => Err(Rejection::at(
            IssueCode::Invalid,
            "Bundle.type",
            format!("Bundle.type must be 'message', found '{other}'"),
        )),
        None => Err(Rejection::at(
            IssueCode::Required,
            "Bundle.type",
            "Bundle.type must be 'message', found none",
        )),
    }
}

/// FHIR Bundle bytes → HL7 v3 XML, with warnings and the paths not carried over.
pub fn convert(input: &[u8], ctx: &Context) -> Result<Translation> {
    let mut buffer = String::new();
    let (bundle, text) = match Bundle::read(input, &mut buffer) {
        Ok(read) => read,
        // A dispensing message that is not a Bundle: recognised only once the Bundle read has
        // failed, so a Bundle pays nothing for the check.
        Err(refusal) => return convert_other(input, ctx, refusal),
    };
    let translated = translate_bundle(&bundle, text, ctx)?;
    let (xml, suspect) = writer::write_document_screened(&translated.root);
    if suspect {
        report::refuse_non_xml(&translated.root, text)?;
    }
    Ok(Translation {
        xml,
        issues: translated.issues,
        not_carried: report::not_carried(text),
    })
}

/// Converts a dispensing message that is not a Bundle, chosen by its `resourceType`. A JSON
/// object of any other type (or of none) is not a message convert takes, refused in the
/// reference's words; other input keeps the Bundle read's refusal.
fn convert_other(input: &[u8], ctx: &Context, refusal: Rejection) -> Result<Translation> {
    match top_level_kind(input).as_deref() {
        Some("Parameters") => {
            let text = input_text(input)?;
            let params = Parameters::parse(text)?;
            finish(release::translate(&params, text, ctx)?, text, "Parameters")
        }
        Some("Task") => {
            let text = input_text(input)?;
            let task = Task::parse(text)?;
            finish(translate_task(&task, ctx)?, text, "Task")
        }
        Some("Claim") => {
            let text = input_text(input)?;
            let claim = Claim::parse(text)?;
            finish(claim::translate(&claim, ctx)?, text, "Claim")
        }
        _ if refused_as_not_a_bundle(&refusal) => Err(Rejection::at(
            IssueCode::Invalid,
            "resourceType",
            "Message not supported by $convert endpoint",
        )),
        _ => Err(refusal),
    }
}

/// Writes a translated tree, refusing text XML cannot carry.
fn finish(translated: Translated, text: &str, resource_type: &str) -> Result<Translation> {
    let (xml, suspect) = writer::write_document_screened(&translated.root);
    if suspect {
        report::refuse_non_xml_in(&translated.root, text, resource_type)?;
    }
    Ok(Translation {
        xml,
        issues: translated.issues,
        not_carried: Vec::new(),
    })
}

/// Validates a return or withdrawal Task and translates it into its send message, whose id
/// is the Task's.
pub fn translate_task(task: &Task<'_>, ctx: &Context) -> Result<Translated> {
    let issues = task::validate(task)?;
    let (interaction, payload) = match task.status.as_deref() {
        Some(task::REJECTED) => (
            dispense_return::INTERACTION,
            dispense_return::translate(task)?,
        ),
        _ => (withdraw::INTERACTION, withdraw::translate(task)?),
    };
    let message_id = match &ctx.message_id {
        Some(id) => id.clone(),
        None => common::global_id(task::message_id(task)?),
    };
    Ok(Translated {
        root: message::send_message(interaction, &message_id, ctx, payload),
        issues,
    })
}
