#!/usr/bin/env python3
"""Writes one input Bundle per translation or validation rule under golden/rules/.

Each case is a small edit of golden/convert/acute_minimal.json (a primary-care acute
prescription-order; fictional people and places) aimed at one rule of the reference's
validator or request translation. The expected answers beside each input are the reference
implementation's, written by `golden/rules/regen.sh`; `tests/golden_rules.rs` compares ours
with them. Run `golden/rules/regen.sh` (it runs this script first) after adding a case.
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "..", "convert", "acute_minimal.json")
U = lambda n: f"urn:uuid:00000000-0000-4000-8000-{n:012d}"

RESPONSIBLE = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner"
REPEAT_INFO = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def base():
    with open(BASE, encoding="utf-8") as f:
        return json.load(f)


def res(b, kind, n=0):
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == kind][n]


def add_entry(b, n, resource):
    b["entry"].append({"fullUrl": U(n), "resource": resource})
    return resource


def add_mr(b, item):
    new = copy.deepcopy(res(b, "MedicationRequest"))
    new["identifier"][0]["value"] = item
    b["entry"].insert(2, {"fullUrl": U(9), "resource": new})
    return new


def secondary_care(b):
    """Prescription type 1001 (outpatient community prescriber, secondary care)."""
    for mr in [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]:
        mr["extension"][0]["valueCoding"]["code"] = "1001"
    return b


def repeat_dispensing(b):
    for mr in [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]:
        mr["courseOfTherapyType"]["coding"][0]["code"] = "continuous-repeat-dispensing"
        mr["dispenseRequest"]["numberOfRepeatsAllowed"] = 5
        mr["dispenseRequest"]["validityPeriod"] = {"start": "2022-01-21", "end": "2022-07-20"}
        mr["dispenseRequest"]["expectedSupplyDuration"] = {
            "value": 28, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"}
    return b


def responsible_practitioner(b, role_n):
    mr = res(b, "MedicationRequest")
    mr["extension"].append({"url": RESPONSIBLE, "valueReference": {"reference": U(role_n)}})


def second_role(b):
    """A second PractitionerRole (entry 10) for the same practitioner and organisation."""
    role = copy.deepcopy(res(b, "PractitionerRole"))
    role["identifier"][0]["value"] = "100000000003"
    return add_entry(b, 10, role)


cases = {}

# --- The patient's GP (healthCareProvider inside the recordTarget fragment) ---
b = base(); del res(b, "Patient")["generalPractitioner"]; cases["gp_absent"] = b
b = base(); res(b, "Patient")["generalPractitioner"] = []; cases["gp_empty_array"] = b
b = base(); res(b, "Patient")["generalPractitioner"][0]["identifier"]["value"] = "V81999"; cases["gp_unknown_code"] = b
b = base(); p = res(b, "Patient"); p["generalPractitioner"].append(copy.deepcopy(p["generalPractitioner"][0])); cases["gp_two"] = b

# --- Bundle shape ---
b = base(); b["type"] = "collection"; cases["bundle_type_collection"] = b
b = base(); b["type"] = "document"; cases["bundle_type_document"] = b

# --- Telecoms of every Organization, Practitioner and PractitionerRole ---
b = base(); del res(b, "Organization")["telecom"][0]["value"]; cases["telecom_organization_no_value"] = b
b = base(); res(b, "PractitionerRole")["telecom"][0]["use"] = ""; cases["telecom_role_empty_use"] = b
b = base(); res(b, "Practitioner")["telecom"] = [{"system": "phone"}]; cases["telecom_practitioner_no_value_no_use"] = b
b = base(); org = copy.deepcopy(res(b, "Organization")); org["telecom"] = [{"system": "phone", "value": "01000 000009"}]
org["identifier"][0]["value"] = "X00009"; add_entry(b, 11, org); cases["telecom_unreferenced_organization"] = b

# --- How a PractitionerRole points at the rest of the Bundle ---
b = base(); r = second_role(b); r["practitioner"] = {"identifier": {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "100000000001"}}
cases["role_practitioner_by_identifier"] = b
b = base(); r = second_role(b); r["practitioner"] = {"identifier": {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "100000000001"}, "display": "DR SAM DOCTOR"}
responsible_practitioner(b, 10); cases["responsible_practitioner_by_identifier"] = b
b = base(); r = second_role(b); r["practitioner"] = {"reference": U(4), "identifier": {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "100000000001"}}
responsible_practitioner(b, 10); cases["responsible_practitioner_reference_and_identifier"] = b
b = base(); r = second_role(b); r["practitioner"] = {"display": "DR SAM DOCTOR"}
responsible_practitioner(b, 10); cases["responsible_practitioner_neither"] = b
b = base(); r = second_role(b); responsible_practitioner(b, 10); cases["responsible_practitioner_by_reference"] = b
b = base(); res(b, "PractitionerRole")["practitioner"] = {"identifier": {"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C1234567"}, "display": "DR SAM DOCTOR"}
responsible_practitioner(b, 5); cases["author_practitioner_by_identifier"] = b
b = base(); res(b, "PractitionerRole")["practitioner"] = {"identifier": {"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C1234567"}}
responsible_practitioner(b, 5); cases["author_practitioner_by_identifier_no_display"] = b
b = base(); r = second_role(b); r["practitioner"] = {"identifier": {"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C1234567"}, "display": "DR SAM DOCTOR"}
responsible_practitioner(b, 10); cases["responsible_practitioner_by_professional_code"] = b
b = base(); r = second_role(b); r["organization"] = {"identifier": {"system": ODS, "value": "X00001"}}
cases["role_organization_by_identifier"] = b
b = secondary_care(base()); r = second_role(b); r["healthcareService"] = [{"identifier": {"system": ODS, "value": "X00001"}}]
cases["role_healthcare_service_by_identifier"] = b

# --- Primary-care organisation rules (requester's role and organisation) ---
b = base(); del res(b, "Organization")["partOf"]; cases["primary_care_no_part_of"] = b
b = secondary_care(base()); del res(b, "Organization")["partOf"]; cases["secondary_care_no_part_of"] = b
b = base(); res(b, "PractitionerRole")["healthcareService"] = []; cases["primary_care_healthcare_service_empty"] = b

# --- Professional codes ---
b = base(); res(b, "Practitioner")["identifier"][1] = {"system": "https://fhir.hl7.org.uk/Id/gmp-number", "value": "G1234567"}
cases["professional_code_gmp"] = b

# --- Repeat dispensing: MedicationRequests agree ---
b = repeat_dispensing(base()); m2 = add_mr(b, "b0000000-0000-4000-8000-000000000003")
m2["dispenseRequest"]["numberOfRepeatsAllowed"] = 6; cases["repeat_dispensing_repeats_disagree"] = b
b = repeat_dispensing(base())
res(b, "MedicationRequest")["extension"].append({"url": REPEAT_INFO, "extension": [
    {"url": "authorisationExpiryDate", "valueDateTime": "2022-07-20"}]})
m2 = add_mr(b, "b0000000-0000-4000-8000-000000000003")
m2["extension"][-1]["extension"][0]["valueDateTime"] = "2022-08-20"; cases["repeat_dispensing_repeat_information_disagree"] = b
b = repeat_dispensing(base()); del res(b, "MedicationRequest")["dispenseRequest"]["validityPeriod"]
cases["repeat_dispensing_no_validity_period"] = b

# --- MedicationRequest status, identifiers, dosage ---
b = base(); res(b, "MedicationRequest")["status"] = "draft"; cases["status_not_active"] = b
b = base(); add_mr(b, res(b, "MedicationRequest")["identifier"][0]["value"]); cases["duplicate_item_number"] = b
b = base(); res(b, "MedicationRequest")["dosageInstruction"] = [{"text": "a", "sequence": 0}, {"text": "b", "sequence": 1}]
cases["dosage_sequence_zero"] = b
b = base(); res(b, "MedicationRequest")["dosageInstruction"] = [{"text": "a", "sequence": 1}, {"text": "b", "sequence": 1}]
cases["dosage_sequence_repeated"] = b
b = base(); res(b, "MedicationRequest")["intent"] = "reflex-order"; cases["intent_reflex_order"] = b

# --- Cancellation ---
def cancellation(b):
    res(b, "MessageHeader")["eventCoding"]["code"] = "prescription-order-update"
    m = res(b, "MedicationRequest"); m["status"] = "cancelled"
    m["statusReason"] = {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason",
                                     "code": "0001", "display": "Prescribing Error"}]}
    return b

b = cancellation(base()); del res(b, "MedicationRequest")["statusReason"]; cases["cancellation_no_status_reason"] = b
b = cancellation(base()); add_mr(b, "b0000000-0000-4000-8000-000000000003"); cases["cancellation_two_medication_requests"] = b
b = cancellation(base()); del res(b, "Patient")["generalPractitioner"]; cases["cancellation_gp_absent"] = b

# --- Additional instructions: CommunicationRequest payloads and their List ---
def with_communication(b, payload):
    add_entry(b, 12, {"resourceType": "List", "status": "current", "mode": "snapshot",
                      "entry": [{"item": {"display": "Amoxicillin 250mg capsules (1/2)"}}, {"item": {"display": ""}}]})
    add_entry(b, 13, {"resourceType": "CommunicationRequest", "status": "unknown", "subject": {"reference": U(3)},
                      "payload": payload, "requester": {"reference": U(5)}, "recipient": [{"reference": U(3)}]})
    return b

b = with_communication(base(), [{"contentString": "Take with food"}, {"contentReference": {"reference": U(12)}}])
cases["communication_text_and_list"] = b
b = with_communication(base(), [{"contentString": "Take with food", "contentReference": {"reference": U(12)}}])
cases["communication_payload_both_kinds"] = b
b = with_communication(base(), [{"contentString": "", "contentReference": {"reference": U(12)}}])
cases["communication_payload_empty_text_and_list"] = b
b = with_communication(base(), [{"contentReference": {"reference": "List/list1"}}]); res(b, "List")["id"] = "list1"
cases["reference_by_type_and_id"] = b

# --- Empty arrays where the reference reads a present member ---
b = base(); res(b, "PractitionerRole")["identifier"] = []; cases["role_identifier_empty_array"] = b
b = base(); del res(b, "PractitionerRole")["identifier"]; cases["role_identifier_absent"] = b
b = base(); res(b, "PractitionerRole")["code"] = []; cases["role_code_empty_array"] = b
b = base(); del res(b, "PractitionerRole")["code"]; cases["role_code_absent"] = b
b = base(); res(b, "Practitioner")["name"] = []; cases["practitioner_name_empty_array"] = b
b = base(); del res(b, "Practitioner")["name"]; cases["practitioner_name_absent"] = b

# --- Professional codes with empty values ---
b = base(); res(b, "Practitioner")["identifier"][1]["value"] = ""
res(b, "Practitioner")["identifier"].append({"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": "12A3456B"})
cases["professional_code_empty_gmc_and_nmc"] = b
b = base(); res(b, "Practitioner")["identifier"][1]["value"] = ""; cases["professional_code_empty_only"] = b
b = base(); r = second_role(b); r["identifier"].append({"system": "https://fhir.hl7.org.uk/Id/nhsbsa-spurious-code", "value": ""})
responsible_practitioner(b, 10); cases["responsible_party_empty_spurious_code"] = b
b = base(); r = second_role(b); r["identifier"].append({"system": "https://fhir.hl7.org.uk/Id/nhsbsa-spurious-code", "value": "SP1234"})
responsible_practitioner(b, 10); cases["responsible_party_spurious_code"] = b

# --- Course of therapy ---
b = base(); res(b, "MedicationRequest")["courseOfTherapyType"]["coding"].append({"system": "https://example.org/other", "display": "X"})
cases["course_of_therapy_coding_without_code"] = b
b = base(); m2 = add_mr(b, "b0000000-0000-4000-8000-000000000003"); m2["courseOfTherapyType"]["coding"][0]["code"] = "continuous"
cases["course_of_therapy_acute_and_continuous"] = b

# --- Message event code ---
b = base(); res(b, "MessageHeader")["eventCoding"]["code"] = "prescription-order-x"; cases["event_code_unknown"] = b
b = base(); del res(b, "MessageHeader")["eventCoding"]["code"]; cases["event_code_absent"] = b

# --- GP identifier without a value (the reference writes an id with no extension) ---
b = base(); del res(b, "Patient")["generalPractitioner"][0]["identifier"]["value"]; cases["gp_identifier_without_value"] = b

# --- The prescriber's signature ---
import base64
def signed(b, data):
    sig = {"type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1"}],
           "when": "2022-01-31T14:47:00+00:00", "who": {"reference": U(5)}}
    if data is not None:
        sig["data"] = base64.b64encode(data.encode()).decode()
    add_entry(b, 14, {"resourceType": "Provenance", "target": [{"reference": U(2)}], "signature": [sig]})
    return b

SIG = ('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod '
       'Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></SignedInfo>{inner}<SignatureValue>QUJD</SignatureValue></Signature>')
cases["signature_without_data"] = signed(base(), None)
cases["signature_plain"] = signed(base(), SIG.format(inner=""))
cases["signature_with_xml_declaration"] = signed(base(), '<?xml version="1.0" encoding="UTF-8"?>' + SIG.format(inner=""))
cases["signature_with_comment"] = signed(base(), SIG.format(inner="<!-- a comment -->"))
cases["signature_with_processing_instruction"] = signed(base(), SIG.format(inner="<?pi data?>"))
cases["signature_with_cdata"] = signed(base(), SIG.format(inner="").replace("QUJD", "<![CDATA[QU&JD]]>"))

# --- The rest of the validator's MedicationRequest rules ---
b = base(); res(b, "MedicationRequest")["intent"] = "plan"; cases["intent_plan"] = b
b = base(); res(b, "MedicationRequest")["medicationReference"] = {"reference": U(8)}; cases["medication_code_and_reference"] = b
b = base(); m2 = add_mr(b, "b0000000-0000-4000-8000-000000000003"); m2["authoredOn"] = "2022-01-01T00:00:00+00:00"
cases["medication_requests_disagree"] = b
b = repeat_dispensing(base()); del res(b, "MedicationRequest")["dispenseRequest"]["expectedSupplyDuration"]
cases["repeat_dispensing_no_supply_duration"] = b
b = base(); res(b, "MedicationRequest")["dosageInstruction"] = []; cases["dosage_missing"] = b
b = base(); res(b, "MedicationRequest")["dosageInstruction"] = [{"text": "a"}, {"text": "b", "sequence": 2}]
cases["dosage_without_sequence"] = b
b = cancellation(base()); res(b, "MedicationRequest")["status"] = "active"; cases["cancellation_status_not_cancelled"] = b

if __name__ == "__main__":
    for f in os.listdir(HERE):
        if f.endswith(".json") and "." not in f[:-5]:
            os.remove(os.path.join(HERE, f))
    for name, bundle in sorted(cases.items()):
        with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases written to {HERE}")
