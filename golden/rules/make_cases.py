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
b = repeat_dispensing(base())
res(b, "MedicationRequest")["extension"].append({"url": REPEAT_INFO, "extension": [
    {"url": "authorisationExpiryDate", "valueDateTime": "2022-07-20"}]})
m2 = add_mr(b, "b0000000-0000-4000-8000-000000000003")
m2["extension"].append(copy.deepcopy(m2["extension"][-1]))
cases["repeat_dispensing_second_request_with_two_repeat_informations_refused"] = b
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

# --- Empty values the reference reads as absent, and further validator exceptions ---
b = base(); res(b, "Patient")["name"] = [{"text": ""}]; cases["name_text_empty"] = b
b = base(); res(b, "Patient")["address"][0]["use"] = ""; res(b, "Patient")["name"][0]["use"] = ""
res(b, "Organization")["telecom"][0]["use"] = "work"; cases["use_empty"] = b
b = base(); del res(b, "Patient")["gender"]; cases["gender_absent"] = b
b = base(); m = res(b, "MedicationRequest"); m["dispenseRequest"]["extension"].append(copy.deepcopy(m["dispenseRequest"]["extension"][0]))
cases["performer_site_type_twice"] = b
b = base(); m = res(b, "MedicationRequest"); m["category"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "outpatient"}]},
                                                           {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community"}]}]
cases["category_two_values"] = b
b = base(); m = res(b, "MedicationRequest"); m["category"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "outpatient"}]}]
m2 = add_mr(b, "b0000000-0000-4000-8000-000000000003"); m2["category"] = m["category"] * 2
cases["category_repeated_value_agrees"] = b
b = base(); dup = copy.deepcopy([e for e in b["entry"] if e["resource"]["resourceType"] == "Organization"][0]); b["entry"].append(dup)
cases["duplicate_full_url"] = b
b = base(); r = second_role(b); r["identifier"] = [{"system": "https://example.org/other", "value": "1"}]; cases["unreferenced_role_without_role_profile_id"] = b
b = base(); res(b, "Practitioner")["identifier"].append({"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "100000000009"})
cases["practitioner_two_sds_user_ids"] = b

# ===== Mapping rules (request translation), one case per rule or a few per lookup table =====
ENDORSEMENT = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionEndorsement"
CONTROLLED_DRUG = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ControlledDrug"
EPS_REPEAT_INFO = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation"
JOB_ROLE_CODE = "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode"
JOB_ROLE_NAME = "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName"


def prescriber_ids(b, ids):
    """The requester's Practitioner: its SDS user id, then the given professional codes."""
    p = res(b, "Practitioner"); p["identifier"] = p["identifier"][:1] + ids


# --- Patient: lookup tables (gender, name use, address use, telecom use) ---
for g in ["male", "female", "other"]:
    b = base(); res(b, "Patient")["gender"] = g; cases[f"patient_gender_{g}"] = b
b = base(); res(b, "Patient")["gender"] = "intersex"; cases["patient_gender_not_in_table"] = b
b = base(); res(b, "Patient")["name"] = [{"use": u, "family": "EXAMPLE", "given": [u.upper()]} for u in
                                        ["usual", "official", "temp", "anonymous", "nickname", "old", "maiden"]]
cases["patient_name_use_table"] = b
b = base(); res(b, "Patient")["name"][0]["use"] = "unknown-use"; cases["patient_name_use_not_in_table"] = b
b = base(); res(b, "Patient")["address"] = [{"use": u, "line": [f"{i} TEST STREET"], "postalCode": "ZZ1 1ZZ"}
                                           for i, u in enumerate(["home", "work", "temp", "billing"], 1)]
cases["patient_address_use_table"] = b
b = base(); res(b, "Patient")["address"][0]["use"] = "old"; cases["patient_address_use_not_in_table"] = b
b = base(); res(b, "Patient")["telecom"] = [{"system": "phone", "use": u, "value": f"0100000000{i}"}
                                           for i, u in enumerate(["home", "work", "temp", "mobile"], 1)]
cases["patient_telecom_use_table"] = b
b = base(); res(b, "Patient")["telecom"] = [{"system": "phone", "use": "old", "value": "01000000001"}]
cases["patient_telecom_use_not_in_table"] = b
b = base(); res(b, "Patient")["telecom"] = [{"system": "phone", "value": "01000000001"}]; cases["patient_telecom_without_use"] = b

# --- Names: parts and text ---
b = base(); res(b, "Patient")["name"] = [{"use": "official", "family": "EXAMPLE", "given": ["ALEX", "JO"],
                                         "prefix": ["MX", "DR"], "suffix": ["PHD", "OBE"], "text": "IGNORED"}]
cases["name_all_parts"] = b
b = base(); res(b, "Patient")["name"] = [{"use": "usual", "text": "ALEX EXAMPLE"}]; cases["name_text_only"] = b
b = base(); res(b, "Patient")["name"] = [{"family": "EXAMPLE"}]; cases["name_without_use"] = b

# --- Addresses: line assembly ---
b = base(); res(b, "Patient")["address"] = [{"use": "home", "line": ["1 TEST STREET", "FLAT 2"], "city": "TESTTOWN",
                                            "district": "TESTSHIRE", "state": "TESTSTATE", "postalCode": "ZZ1 1ZZ",
                                            "country": "GB", "text": "IGNORED"}]
cases["address_line_city_district_state_postcode"] = b
b = base(); res(b, "Patient")["address"] = [{"use": "home", "city": "TESTTOWN"}]; cases["address_city_only"] = b
b = base(); res(b, "Patient")["address"] = [{"line": ["1 TEST STREET"], "postalCode": "ZZ1 1ZZ"}]; cases["address_without_use"] = b

# --- Telecom values: whitespace removed, tel: prefix ---
b = base(); res(b, "Patient")["telecom"] = [{"system": "phone", "use": "home", "value": " 01000\t000 001 "}]
cases["telecom_value_whitespace_removed"] = b
b = base(); res(b, "Patient")["telecom"] = [{"system": "phone", "use": "home", "value": "tel:01000000001"}]
cases["telecom_value_tel_prefix_kept"] = b
b = base(); res(b, "Patient")["telecom"] = [{"system": "phone", "use": "home", "value": "TEL:01000000001"}]
cases["telecom_value_upper_case_tel_prefixed"] = b
b = base(); res(b, "Patient")["telecom"] = [{"system": "email", "use": "home", "value": "alex@example.org"}]
cases["telecom_value_email_prefixed"] = b

# --- Patient: identifiers and birth date ---
b = base(); res(b, "Patient")["identifier"].insert(0, {"system": "https://example.org/local", "value": "L1"})
cases["patient_nhs_number_among_other_identifiers"] = b
b = base(); res(b, "Patient")["birthDate"] = "1990-01"; cases["patient_birth_date_year_month"] = b

# --- ParentPrescription: effectiveTime ---
b = base(); res(b, "MedicationRequest")["dispenseRequest"]["validityPeriod"] = {"start": "2022-01-21", "end": "2022-04-21"}
cases["effective_time_from_validity_start"] = b
b = base(); res(b, "MedicationRequest")["dispenseRequest"]["validityPeriod"] = {"start": "2022-01-21T23:30:00+01:00"}
cases["effective_time_from_validity_start_with_offset"] = b
b = signed(base(), SIG.format(inner="")); res(b, "Provenance")["signature"][0]["when"] = "2022-01-31T23:47:00+01:00"
cases["author_time_from_signature_in_utc"] = b
b = signed(base(), SIG.format(inner="")); res(b, "Provenance")["signature"][0]["who"] = {"reference": U(10)}
cases["author_signature_of_another_role_ignored"] = b

# --- Prescription: course of therapy → treatment type, repeat number, days supply, review date ---
b = base(); res(b, "MedicationRequest")["courseOfTherapyType"]["coding"][0]["code"] = "continuous"
cases["course_of_therapy_continuous"] = b
cases["course_of_therapy_repeat_dispensing"] = repeat_dispensing(base())
b = base(); res(b, "MedicationRequest")["courseOfTherapyType"]["coding"][0]["code"] = "seasonal"
cases["course_of_therapy_not_in_table"] = b
b = repeat_dispensing(base())
for m in [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]:
    m["basedOn"] = [{"extension": [{"url": EPS_REPEAT_INFO, "extension": [{"url": "numberOfRepeatsAllowed", "valueInteger": 2}]}],
                     "reference": "urn:uuid:00000000-0000-4000-8000-000000000099"}]
cases["repeat_number_from_based_on_repeat_information"] = b
b = repeat_dispensing(base()); res(b, "MedicationRequest")["dispenseRequest"]["numberOfRepeatsAllowed"] = 0
cases["repeat_number_zero_repeats_allowed"] = b
b = repeat_dispensing(base()); del res(b, "MedicationRequest")["dispenseRequest"]["numberOfRepeatsAllowed"]
cases["repeat_number_repeats_allowed_absent"] = b
b = repeat_dispensing(base()); res(b, "MedicationRequest")["dispenseRequest"]["expectedSupplyDuration"] = {
    "value": 4, "unit": "week", "system": "http://unitsofmeasure.org", "code": "wk"}
cases["days_supply_not_in_days"] = b
b = repeat_dispensing(base()); res(b, "MedicationRequest")["dispenseRequest"]["expectedSupplyDuration"]["value"] = 28.0
cases["days_supply_number_text_kept"] = b
b = base(); res(b, "MedicationRequest")["extension"].append({"url": REPEAT_INFO, "extension": [
    {"url": "authorisationExpiryDate", "valueDateTime": "2022-07-20"}]}); cases["review_date_from_repeat_information"] = b
b = base(); res(b, "MedicationRequest")["extension"].append({"url": REPEAT_INFO, "extension": [
    {"url": "authorisationExpiryDate", "valueDateTime": "2022-07-20T00:00:00+00:00"}]}); cases["review_date_date_time_refused"] = b

# --- Prescription: prescription type, dispensing site preference, performer ---
for t in ["1004", "0108"]:
    b = base(); res(b, "MedicationRequest")["extension"][0]["valueCoding"]["code"] = t
    if t == "1004": del res(b, "Organization")["partOf"]
    cases[f"prescription_type_{t}"] = b
for site in ["P2", "P3"]:
    b = base(); res(b, "MedicationRequest")["dispenseRequest"]["extension"][0]["valueCoding"]["code"] = site
    cases[f"dispensing_site_preference_{site.lower()}"] = b
b = base(); del res(b, "MedicationRequest")["dispenseRequest"]["performer"]; cases["performer_absent"] = b
b = base(); res(b, "MedicationRequest")["dispenseRequest"]["performer"]["identifier"]["system"] = "https://example.org/other"
cases["performer_other_system"] = b

# --- AgentPerson: job role code systems ---
b = base(); res(b, "PractitionerRole")["code"] = [{"coding": [{"system": JOB_ROLE_NAME, "code": "R8000"}]}]
cases["job_role_name_system"] = b
b = base(); res(b, "PractitionerRole")["code"] = [{"coding": [{"system": JOB_ROLE_NAME, "code": "R8000"},
                                                             {"system": JOB_ROLE_CODE, "code": "S8000:G8000:R8000"}]}]
cases["job_role_code_preferred_to_name"] = b
b = base(); res(b, "PractitionerRole")["code"] = [{"coding": [{"system": "https://example.org/other", "code": "X"}]}]
cases["job_role_other_system_only"] = b

# --- AgentPerson: professional codes (author) and responsible party codes ---
for sysname, value in [("nmc-number", "12A3456B"), ("gphc-number", "2083469"), ("hcpc-number", "PA12345"),
                       ("professional-code", "P123456")]:
    b = base(); prescriber_ids(b, [{"system": f"https://fhir.hl7.org.uk/Id/{sysname}", "value": value}])
    cases[f"professional_code_{sysname.replace('-number', '').replace('-', '_')}"] = b
b = base(); prescriber_ids(b, [{"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "c1234567"}])
cases["professional_code_gmc_lower_case_c"] = b
b = base(); prescriber_ids(b, [{"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "1234567"}])
cases["professional_code_gmc_without_c"] = b
b = base(); prescriber_ids(b, [{"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C1234567"},
                               {"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": "12A3456B"}])
cases["professional_code_two_kinds"] = b
b = base(); prescriber_ids(b, []); cases["professional_code_none"] = b
b = base(); prescriber_ids(b, [{"system": "https://fhir.hl7.org.uk/Id/din-number", "value": "977677"}])
cases["professional_code_din_only_author"] = b
b = base(); res(b, "Practitioner")["identifier"].append({"system": "https://fhir.hl7.org.uk/Id/din-number", "value": "977677"})
r = second_role(b); responsible_practitioner(b, 10); cases["responsible_party_din"] = b
b = base(); res(b, "Practitioner")["identifier"].append({"system": "https://fhir.hl7.org.uk/Id/din-number", "value": "977677"})
r = second_role(b); r["identifier"].append({"system": "https://fhir.hl7.org.uk/Id/nhsbsa-spurious-code", "value": "SP1234"})
responsible_practitioner(b, 10); cases["responsible_party_spurious_code_before_din"] = b

# --- AgentPerson: telecom fallback (role, then practitioner, then organisation) ---
b = base(); del res(b, "PractitionerRole")["telecom"]
res(b, "Practitioner")["telecom"] = [{"system": "phone", "value": "01000 000004", "use": "mobile"}]
cases["telecom_from_practitioner"] = b
b = base(); del res(b, "PractitionerRole")["telecom"]; cases["telecom_none_on_role_or_practitioner"] = b
b = base(); r = second_role(b); del r["telecom"]
r["practitioner"] = {"identifier": {"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C7654321"}, "display": "DR RESP"}
responsible_practitioner(b, 10); cases["telecom_from_organization_for_identifier_practitioner"] = b
b = base(); res(b, "PractitionerRole")["telecom"] = [{"system": "phone", "value": "01000 000000", "use": "work"},
                                                    {"system": "phone", "value": "01000 000008", "use": "temp"}]
cases["telecom_role_two"] = b

# --- Organisations: Organization vs HealthcareService cost centre, Location address, licensing organisation ---
def healthcare_service(b):
    secondary_care(b)
    res(b, "PractitionerRole")["healthcareService"] = [{"reference": U(15)}]
    add_entry(b, 15, {"resourceType": "HealthcareService",
                      "identifier": [{"use": "usual", "system": ODS, "value": "X00015"}],
                      "providedBy": {"identifier": {"system": ODS, "value": "X00001"}},
                      "location": [{"reference": U(16)}], "name": "TEST CLINIC",
                      "telecom": [{"system": "phone", "value": "01000 000015", "use": "work"}]})
    add_entry(b, 16, {"resourceType": "Location", "status": "active", "mode": "instance",
                      "address": {"use": "work", "line": ["3 TEST HOSPITAL ROAD"], "city": "TESTTOWN", "postalCode": "ZZ1 1ZX"}})
    return b

cases["cost_centre_healthcare_service"] = healthcare_service(base())
b = healthcare_service(base()); del res(b, "Organization")["partOf"]; cases["cost_centre_healthcare_service_no_part_of"] = b
b = healthcare_service(base()); hs2 = copy.deepcopy(res(b, "HealthcareService")); hs2["identifier"][0]["value"] = "X00020"
hs2["name"] = "SECOND CLINIC"; add_entry(b, 20, hs2); res(b, "PractitionerRole")["healthcareService"].append({"reference": U(20)})
cases["cost_centre_first_healthcare_service"] = b
b = healthcare_service(base()); res(b, "HealthcareService")["location"] = []; cases["cost_centre_healthcare_service_no_location"] = b
b = healthcare_service(base()); del res(b, "Location")["address"]; cases["cost_centre_location_without_address"] = b
b = healthcare_service(base()); del res(b, "HealthcareService")["name"]; cases["cost_centre_healthcare_service_without_name"] = b
b = base(); parent = copy.deepcopy(res(b, "Organization")); del parent["partOf"]
parent["identifier"][0]["value"] = "X0A"; parent["name"] = "TEST ICB BY REFERENCE"; add_entry(b, 17, parent)
res(b, "Organization")["partOf"] = {"reference": U(17)}; cases["licensing_organization_part_of_reference"] = b
b = base(); del res(b, "Organization")["partOf"]["display"]; cases["licensing_organization_part_of_without_display"] = b
b = secondary_care(base()); cases["licensing_organization_secondary_care_part_of"] = b
b = base(); res(b, "Organization")["address"][0] = {"use": "temp", "line": ["2 TEST ROAD", "UNIT 4"], "city": "TESTTOWN",
                                                   "district": "TESTSHIRE", "postalCode": "ZZ1 1ZY"}
cases["organization_address_lines"] = b
b = base(); res(b, "Organization")["telecom"][0]["use"] = "temp"; cases["organization_telecom_use_temp"] = b
b = base(); del res(b, "Organization")["name"]; cases["organization_without_name"] = b

# --- Line item: medication, quantity ---
b = base(); m = res(b, "MedicationRequest"); med = m.pop("medicationCodeableConcept")
m["medicationReference"] = {"reference": U(18)}
add_entry(b, 18, {"resourceType": "Medication", "code": med}); cases["medication_from_medication_resource"] = b
b = base(); res(b, "MedicationRequest")["medicationCodeableConcept"]["coding"].insert(
    0, {"system": "https://example.org/local-drugs", "code": "L1", "display": "Local"})
cases["medication_snomed_coding_among_others"] = b
b = base(); del res(b, "MedicationRequest")["medicationCodeableConcept"]["coding"][0]["display"]; cases["medication_without_display"] = b
b = base(); res(b, "MedicationRequest")["dispenseRequest"]["quantity"]["value"] = 10.50; cases["quantity_decimal"] = b
b = base(); q = res(b, "MedicationRequest")["dispenseRequest"]["quantity"]; q["unit"] = "tablet"; q["code"] = "428673006"
cases["quantity_unit_and_code"] = b
b = base(); del res(b, "MedicationRequest")["dispenseRequest"]["quantity"]["unit"]; cases["quantity_without_unit"] = b

# --- Line item: endorsements ---
def endorse(b, *codes, system="https://fhir.nhs.uk/CodeSystem/medicationrequest-endorsement"):
    for c in codes:
        res(b, "MedicationRequest")["extension"].append({"url": ENDORSEMENT, "valueCodeableConcept": {
            "coding": [{"system": system, "code": c}]}})
    return b

cases["endorsement_one"] = endorse(base(), "SLS")
cases["endorsement_two"] = endorse(base(), "SLS", "FS")
cases["endorsement_other_system"] = endorse(base(), "SLS", system="https://example.org/other")

# --- Line item: additional instructions (controlled drug words, note, CommunicationRequest text and List) ---
b = base(); res(b, "MedicationRequest")["extension"].append({"url": CONTROLLED_DRUG, "extension": [
    {"url": "quantityWords", "valueString": "twenty one"}, {"url": "schedule", "valueCoding": {"code": "CD2"}}]})
cases["instructions_controlled_drug_words"] = b
b = base(); res(b, "MedicationRequest")["note"] = [{"text": "Review in 7 days"}]; cases["instructions_note"] = b
b = base(); res(b, "MedicationRequest")["note"] = [{"text": "A & <B>"}]; cases["instructions_note_escaped"] = b
b = with_communication(base(), [{"contentString": "Take with food"}, {"contentReference": {"reference": U(12)}}])
res(b, "MedicationRequest")["extension"].append({"url": CONTROLLED_DRUG, "extension": [{"url": "quantityWords", "valueString": "twenty one"}]})
res(b, "MedicationRequest")["note"] = [{"text": "Review in 7 days"}]; cases["instructions_all_parts_joined"] = b
b = with_communication(base(), [{"contentString": "Take with food"}])
add_mr(b, "b0000000-0000-4000-8000-000000000003"); cases["instructions_communication_first_line_item_only"] = b
b = with_communication(base(), [{"contentString": "First"}])
add_entry(b, 19, {"resourceType": "CommunicationRequest", "status": "unknown", "subject": {"reference": U(3)},
                  "payload": [{"contentString": "Second"}], "requester": {"reference": U(5)}, "recipient": [{"reference": U(3)}]})
cases["instructions_two_communication_requests"] = b

# --- Line item: dosage text ---
b = base(); res(b, "MedicationRequest")["dosageInstruction"] = [
    {"text": "b", "sequence": 2}, {"text": "a1", "sequence": 1}, {"text": "a2", "sequence": 1}, {"text": "c", "sequence": 3}]
cases["dosage_joined_by_sequence"] = b
b = base(); res(b, "MedicationRequest")["dosageInstruction"] = [{"sequence": 1}]; cases["dosage_single_without_text"] = b
b = base(); res(b, "MedicationRequest")["dosageInstruction"] = [{"text": "a", "sequence": 1.5}, {"text": "b", "sequence": 1}]
cases["dosage_fractional_sequence"] = b

# --- Cancellation fields ---
cases["cancellation_status_reason"] = cancellation(base())
b = cancellation(base()); del res(b, "MedicationRequest")["statusReason"]["coding"][0]["display"]
cases["cancellation_status_reason_without_display"] = b
b = cancellation(base()); res(b, "MedicationRequest")["statusReason"]["coding"][0].update(code="0005", display="Change to medication treatment regime")
cases["cancellation_status_reason_other_code"] = b
b = cancellation(base()); res(b, "MedicationRequest")["statusReason"]["coding"][0]["system"] = "https://example.org/other"
cases["cancellation_status_reason_other_system"] = b
b = cancellation(base()); del res(b, "Organization")["partOf"]; cases["cancellation_without_licensing_organization"] = b
b = cancellation(base()); r = second_role(b); responsible_practitioner(b, 10)
r["identifier"][0]["value"] = "100000000009"; cases["cancellation_responsible_party_other_role"] = b
b = cancellation(base()); del res(b, "PractitionerRole")["telecom"]
cases["cancellation_telecom_from_practitioner_or_none"] = b

# --- Identifiers written as given or upper-cased ---
b = base(); b["identifier"]["value"] = "bundle-id-not-a-uuid"; cases["bundle_identifier_not_a_uuid"] = b
b = base(); res(b, "MedicationRequest")["groupIdentifier"]["value"] = "6bc03a-a83008-485bar"; cases["short_form_id_case_kept"] = b
b = base(); res(b, "MedicationRequest")["identifier"][0]["value"] = "item-one"; cases["item_number_not_a_uuid"] = b

# --- More of the prescription and line item ---
b = base(); m = res(b, "MedicationRequest"); m["courseOfTherapyType"]["coding"][0]["code"] = "continuous"
m["dispenseRequest"]["numberOfRepeatsAllowed"] = 3; cases["repeat_number_continuous_ignores_repeats_allowed"] = b
b = base(); res(b, "Practitioner")["name"] = [{"use": "official", "text": "DR SAM DOCTOR"}]; cases["practitioner_name_text_only"] = b
b = base(); res(b, "MedicationRequest")["extension"].append({"url": CONTROLLED_DRUG, "extension": [{"url": "quantityWords", "valueString": ""}]})
res(b, "MedicationRequest")["note"] = [{"text": "Review in 7 days"}]; cases["instructions_controlled_drug_words_empty"] = b
b = base(); res(b, "MedicationRequest")["note"] = [{"text": "one"}, {"text": "two"}]; cases["instructions_note_two"] = b
b = base(); c = res(b, "MedicationRequest")["medicationCodeableConcept"]["coding"]; c.append(dict(c[0], code="39732411000001106"))
cases["medication_two_snomed_codings"] = b

# --- Date and date-time formats ---
b = base(); res(b, "Patient")["birthDate"] = "1990"; cases["patient_birth_date_year_only"] = b
b = base(); res(b, "Patient")["birthDate"] = "1990-01-02T10:00:00+00:00"; cases["patient_birth_date_with_time_refused"] = b
b = base(); res(b, "Patient")["birthDate"] = "02/01/1990"; cases["patient_birth_date_other_format_refused"] = b
b = base(); res(b, "MedicationRequest")["dispenseRequest"]["validityPeriod"] = {"start": "2022-01-21T09:30:15.123+05:30", "end": "2022-07-20"}
cases["effective_time_from_validity_start_with_fraction_and_offset"] = b
b = base(); res(b, "MedicationRequest")["dispenseRequest"]["validityPeriod"] = {"start": "2022-01-21T09:30", "end": "2022-07-20"}
cases["effective_time_from_validity_start_without_seconds_refused"] = b
b = signed(base(), SIG.format(inner="")); res(b, "Provenance")["signature"][0]["when"] = "2022-01-31T23:30:00-02:00"
cases["author_time_from_signature_across_midnight"] = b

# --- Release requests (Parameters, Task/$release): a fictional dispenser, not a Bundle ---
JOB_ROLE_CODE = "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode"


def release(group=None):
    """A release request by a fictional dispenser; with `group`, a patient release of it."""
    p = {"resourceType": "Parameters", "id": "release-1", "parameter": [
        {"name": "owner", "resource": {
            "resourceType": "Organization", "id": "owner",
            "identifier": [{"system": ODS, "value": "FXP01"}],
            "name": "Example Community Pharmacy",
            "address": [{"use": "work", "line": ["1 High Street", "Exampleton"], "city": "Sampleshire", "postalCode": "EX1 2MP"}],
            "telecom": [{"system": "phone", "use": "work", "value": "0100 000 0001"}]}},
        {"name": "status", "valueCode": "accepted"},
        {"name": "agent", "resource": {
            "resourceType": "PractitionerRole", "id": "agent",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "100000000001"}],
            "practitioner": {"identifier": {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "200000000002"},
                             "display": "Alex Dispenser"},
            "code": [{"coding": [{"system": JOB_ROLE_CODE, "code": "R8003", "display": "Health Professional Access Role"}]}],
            "telecom": [{"system": "phone", "use": "work", "value": "0100 000 0002"}]}}]}
    if group is not None:
        p["parameter"].append({"name": "group-identifier", "valueIdentifier": {
            "system": "https://fhir.nhs.uk/Id/prescription-order-number", "value": group}})
    return p


def param(p, name):
    return next(x for x in p["parameter"] if x["name"] == name)


GROUP = "A0548B-A99968-451485"
cases["release_nominated"] = release()
cases["release_patient"] = release(GROUP)
b = release(GROUP); param(b, "group-identifier")["valueIdentifier"]["system"] = "https://example.org/other"
cases["release_patient_group_identifier_any_system"] = b
b = release(GROUP); b["parameter"].append(copy.deepcopy(param(b, "group-identifier"))); cases["release_two_group_identifiers_refused"] = b
b = release(); b["parameter"] = [x for x in b["parameter"] if x["name"] != "owner"]; cases["release_owner_missing_refused"] = b
b = release(); param(b, "owner")["resource"] = copy.deepcopy(param(b, "agent")["resource"]); cases["release_owner_not_organization_refused"] = b
b = release(); b["parameter"] = [x for x in b["parameter"] if x["name"] != "agent"]; cases["release_agent_missing_refused"] = b
b = release(); param(b, "agent")["resource"] = copy.deepcopy(param(b, "owner")["resource"]); cases["release_agent_not_practitioner_role_refused"] = b
b = release(); param(b, "agent")["resource"]["practitioner"] = {"reference": "Practitioner/p1"}; cases["release_agent_practitioner_reference_refused"] = b
b = release(); del param(b, "agent")["resource"]["telecom"]; cases["release_agent_telecom_missing_refused"] = b
b = release(); param(b, "agent")["resource"]["telecom"] = []; cases["release_agent_telecom_empty_refused"] = b
b = release(); param(b, "agent")["resource"]["practitioner"] = {"reference": "Practitioner/p1"}; del param(b, "agent")["resource"]["telecom"]
b["parameter"] = [x for x in b["parameter"] if x["name"] != "owner"]; cases["release_every_validator_issue_reported"] = b
b = release(); r = param(b, "agent")["resource"]; r["identifier"].append(dict(r["identifier"][0], value="100000000009"))
cases["release_agent_two_role_profile_ids_refused"] = b
b = release(); del param(b, "agent")["resource"]["identifier"]; cases["release_agent_without_identifier_refused"] = b
b = release(); param(b, "agent")["resource"]["practitioner"]["identifier"]["system"] = "https://fhir.hl7.org.uk/Id/gphc-number"
cases["release_agent_practitioner_not_sds_user_refused"] = b
b = release(); del param(b, "agent")["resource"]["practitioner"]["display"]; cases["release_agent_practitioner_without_display"] = b
b = release(); param(b, "agent")["resource"]["code"][0]["coding"][0]["system"] = "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName"
cases["release_agent_job_role_name"] = b
b = release(); del param(b, "agent")["resource"]["code"]; cases["release_agent_without_job_role_refused"] = b
b = release(); param(b, "agent")["resource"]["telecom"].insert(0, {"system": "phone", "use": "mobile", "value": " 07000\t000003 "})
cases["release_agent_first_telecom_compacted"] = b
b = release(); param(b, "agent")["resource"]["telecom"][0]["use"] = "pager"; cases["release_agent_telecom_use_unmapped_refused"] = b
b = release(); param(b, "owner")["resource"]["telecom"][0]["value"] = ""; cases["release_owner_telecom_empty_value_written_without_value"] = b
b = release(); del param(b, "owner")["resource"]["telecom"]; cases["release_owner_without_telecom_uses_agent_telecom"] = b
b = release(); del param(b, "owner")["resource"]["address"]; cases["release_owner_without_address"] = b
b = release(); param(b, "owner")["resource"]["address"].append({"use": "home", "line": ["2 Low Road"], "postalCode": "EX9 9ZZ"})
cases["release_owner_first_address_only"] = b
b = release(); param(b, "owner")["resource"]["name"] = ""; cases["release_owner_empty_name"] = b
b = release(); param(b, "owner")["resource"]["identifier"][0]["system"] = "https://example.org/other"; cases["release_owner_without_ods_code_refused"] = b
b = release(GROUP); b["parameter"].reverse(); cases["release_parameters_in_any_order"] = b

# --- Return and withdrawal Tasks: the fictional dispenser as contained resources ---
RFC4122 = "https://tools.ietf.org/html/rfc4122"
RETURN_REASON = "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-return-status-reason"
WITHDRAW_REASON = "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-withdraw-reason"
EPS_REPEAT_INFO = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation"


def task(status):
    """A return (`rejected`) or withdrawal (`in-progress`) by the release request's dispenser."""
    role = copy.deepcopy(param(release(), "agent")["resource"])
    role["id"] = "role"
    role["organization"] = {"reference": "#org"}
    org = copy.deepcopy(param(release(), "owner")["resource"])
    org["id"] = "org"
    withdraw = status == "in-progress"
    t = {"resourceType": "Task", "id": "task-1", "contained": [role, org],
         "identifier": [{"system": RFC4122, "value": "c0000000-0000-4000-8000-00000000000a"}],
         "status": status, "intent": "order",
         "groupIdentifier": {"system": "https://fhir.nhs.uk/Id/prescription-order-number", "value": GROUP},
         "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code",
                              "code": "abort" if withdraw else "change"}]},
         "focus": {"type": "Bundle", "identifier": {"system": RFC4122, "value": "c0000000-0000-4000-8000-00000000000b"}},
         "for": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9999999999"}},
         "authoredOn": "2022-01-31T10:20:30+01:00",
         "owner": {"identifier": {"system": ODS, "value": "FXP99"}},
         "statusReason": {"coding": [
             {"system": WITHDRAW_REASON, "code": "DA", "display": "Dosage Amendments"} if withdraw else
             {"system": RETURN_REASON, "code": "0002", "display": "Unable to dispense medication on prescriptions"}]},
         "requester": {"reference": "#role"}}
    return t


def contained(t, kind):
    return next(r for r in t["contained"] if r["resourceType"] == kind)


def repeat_info(issued):
    return {"url": EPS_REPEAT_INFO, "extension": [
        {"url": "numberOfRepeatsAllowed", "valueInteger": 6},
        {"url": "numberOfRepeatsIssued", "valueInteger": issued}]}


for kind, status in [("return", "rejected"), ("withdraw", "in-progress")]:
    cases[f"{kind}_basic"] = task(status)
    b = task(status); b["extension"] = [repeat_info(2)]; cases[f"{kind}_repeat_number_is_issued_plus_one"] = b
    b = task(status); b["extension"] = [{"url": EPS_REPEAT_INFO, "extension": [
        {"url": "numberOfRepeatsIssued", "valueUnsignedInt": 2}]}]; cases[f"{kind}_repeat_issued_not_integer_refused"] = b
    b = task(status); b["intent"] = "plan"; cases[f"{kind}_intent_plan_refused"] = b
    b = task(status); del b["statusReason"]["coding"][0]["display"]; cases[f"{kind}_reason_without_display"] = b
    b = task(status); b["statusReason"]["coding"][0]["system"] = "https://example.org/reason"; cases[f"{kind}_reason_other_system_refused"] = b
    b = task(status); b["statusReason"]["coding"].append(dict(b["statusReason"]["coding"][0], code="0003"))
    cases[f"{kind}_reason_two_codings_refused"] = b
    b = task(status); b["requester"] = {"identifier": {"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "1"}}
    cases[f"{kind}_requester_not_reference_refused"] = b
    b = task(status); b["requester"] = {"reference": "#nobody"}; cases[f"{kind}_requester_not_contained_refused"] = b
    b = task(status); b["requester"] = {"reference": "#org"}; cases[f"{kind}_requester_not_practitioner_role_refused"] = b
    b = task(status); contained(b, "PractitionerRole")["practitioner"] = {"reference": "Practitioner/p1"}
    cases[f"{kind}_practitioner_reference_refused"] = b
    b = task(status); contained(b, "PractitionerRole")["practitioner"]["identifier"]["system"] = "https://fhir.hl7.org.uk/Id/gphc-number"
    cases[f"{kind}_practitioner_not_sds_user_refused"] = b
    b = task(status); r = contained(b, "PractitionerRole"); r["identifier"].append(dict(r["identifier"][0], value="100000000009"))
    cases[f"{kind}_two_role_profile_ids_refused"] = b
    b = task(status); del contained(b, "PractitionerRole")["identifier"]; cases[f"{kind}_role_without_identifier_refused"] = b
    b = task(status); b["identifier"][0]["system"] = "https://example.org/id"; cases[f"{kind}_identifier_other_system_refused"] = b
    b = task(status); b["groupIdentifier"]["system"] = "https://example.org/id"; cases[f"{kind}_group_identifier_other_system_refused"] = b
    b = task(status); b["focus"]["identifier"]["system"] = "https://example.org/id"; cases[f"{kind}_focus_other_system_refused"] = b
    b = task(status); b["authoredOn"] = "31/01/2022"; cases[f"{kind}_authored_on_other_format_refused"] = b
    b = task(status); b["identifier"][0]["value"] = "not-a-uuid"; cases[f"{kind}_identifier_not_a_uuid"] = b
    b = task(status); contained(b, "PractitionerRole")["organization"] = {"identifier": {"system": ODS, "value": "FXP01"}}
    cases[f"{kind}_role_organization_not_reference_refused"] = b
    b = task(status); b["intent"] = "plan"; contained(b, "PractitionerRole")["practitioner"] = {"reference": "Practitioner/p1"}
    b["statusReason"]["coding"][0]["system"] = "https://example.org/reason"; cases[f"{kind}_every_validator_issue_reported"] = b
b = task("rejected"); del contained(b, "Organization")["telecom"]; cases["return_organization_without_telecom_uses_role_telecom"] = b
b = task("rejected"); b["extension"] = [repeat_info(1), repeat_info(4)]; cases["return_first_repeat_information_used"] = b
b = task("rejected"); b["extension"] = [{"url": EPS_REPEAT_INFO}]; cases["return_repeat_information_without_extensions_ignored"] = b
b = task("completed"); cases["task_status_other_refused"] = b
b = task("in-progress"); b["code"]["coding"][0]["code"] = "change"; cases["withdraw_code_not_abort_refused"] = b
b = task("in-progress"); del b["code"]; cases["withdraw_code_missing_refused"] = b
b = task("in-progress"); b["code"]["coding"][0]["system"] = "https://example.org/code"; cases["withdraw_code_other_system_refused"] = b
b = task("in-progress"); b["extension"] = [repeat_info(1), repeat_info(4)]; cases["withdraw_two_repeat_informations_refused"] = b
b = task("in-progress"); b["for"]["identifier"]["system"] = "https://example.org/id"; cases["withdraw_patient_other_system_refused"] = b
b = task("in-progress"); del contained(b, "PractitionerRole")["practitioner"]; cases["withdraw_role_without_practitioner_refused"] = b


# --- Dispense notifications: the release request's dispenser supplies the fictional item ---
DISPENSE_ITEM = "https://fhir.nhs.uk/Id/prescription-dispense-item-number"
ORDER_ITEM = "https://fhir.nhs.uk/Id/prescription-order-item-number"
SCT = "http://snomed.info/sct"


def dispense_mr(item, code="39732311000001104", display="Amoxicillin 250mg capsules"):
    return {"resourceType": "MedicationRequest", "id": f"mr-{item}",
            "identifier": [{"system": ORDER_ITEM, "value": f"d0000000-0000-4000-8000-00000000010{item}"}],
            "status": "active", "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": SCT, "code": code, "display": display}]},
            "subject": {"reference": U(90)}, "requester": {"reference": U(91)},
            "groupIdentifier": {"extension": [{
                "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId",
                "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/prescription", "value": "d0000000-0000-4000-8000-0000000000f1"}}],
                "system": "https://fhir.nhs.uk/Id/prescription-order-number", "value": GROUP},
            "dispenseRequest": {"quantity": {"value": 20, "unit": "capsule", "system": SCT, "code": "428641000"}}}


def medication_dispense(n, item, quantity=20, display="Amoxicillin 250mg capsules"):
    role = copy.deepcopy(param(release(), "agent")["resource"])
    role["id"] = "performer"
    role["organization"] = {"reference": U(80)}
    return {"resourceType": "MedicationDispense",
            "contained": [role, dispense_mr(item)],
            "extension": [{"url": "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-TaskBusinessStatus",
                           "valueCoding": {"system": "https://fhir.nhs.uk/CodeSystem/EPS-task-business-status",
                                           "code": "0006", "display": "Dispensed"}}],
            "identifier": [{"system": DISPENSE_ITEM, "value": f"d0000000-0000-4000-8000-00000000020{n}"}],
            "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": SCT, "code": "39732311000001104", "display": display}]},
            "subject": {"type": "Patient", "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9999999999"}},
            "performer": [{"actor": {"reference": "#performer"}}],
            "authorizingPrescription": [{"reference": f"#mr-{item}"}],
            "type": {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/medicationdispense-type",
                                 "code": "0001", "display": "Item fully dispensed"}]},
            "quantity": {"value": quantity, "unit": "capsule", "system": SCT, "code": "428641000"},
            "whenHandedOver": "2022-01-31T10:20:30+01:00",
            "dosageInstruction": [{"text": "One capsule three times a day"}]}


def dispense(*dispenses):
    """A dispense notification by the release request's dispenser, of the given dispenses."""
    org = copy.deepcopy(param(release(), "owner")["resource"])
    del org["id"]
    org["extension"] = [{"url": "https://fhir.nhs.uk/StructureDefinition/Extension-ODS-OrganisationRelationships",
                         "extension": [{"url": "reimbursementAuthority",
                                        "valueIdentifier": {"system": ODS, "value": "T1450"}}]}]
    header = {"resourceType": "MessageHeader",
              "eventCoding": {"system": "https://fhir.nhs.uk/CodeSystem/message-event", "code": "dispense-notification"},
              "sender": {"identifier": {"system": ODS, "value": "FXP01"}},
              "source": {"endpoint": "urn:nhs-uk:addressing:ods:FXP01"},
              "response": {"identifier": "d0000000-0000-4000-8000-0000000000e1", "code": "ok"},
              "focus": [{"reference": U(81)}]}
    b = {"resourceType": "Bundle", "id": "dispense-1",
         "identifier": {"system": RFC4122, "value": "d0000000-0000-4000-8000-0000000000a1"},
         "type": "message", "entry": [{"fullUrl": U(79), "resource": header}]}
    for i, d in enumerate(dispenses or (medication_dispense(1, 1),)):
        add_entry(b, 81 + i, d)
    add_entry(b, 80, org)
    return b


def dispense_header(b):
    return b["entry"][0]["resource"]


def dispense_org(b):
    return res(b, "Organization")


cases["dispense_basic"] = dispense()
cases["dispense_partial_supply_two_products_one_line_item"] = dispense(
    medication_dispense(1, 1, 8, "Amoxicillin 250mg capsules (Maker A)"),
    medication_dispense(2, 1, 12, "Amoxicillin 250mg capsules (Maker B)"))
cases["dispense_two_line_items"] = dispense(medication_dispense(1, 1), medication_dispense(2, 2))
b = dispense(); dispense_header(b)["extension"] = [{
    "url": "https://fhir.nhs.uk/StructureDefinition/Extension-replacementOf",
    "valueIdentifier": {"system": RFC4122, "value": "d0000000-0000-4000-8000-0000000000b1"}}]
cases["dispense_amendment_replaces_message"] = b
b = dispense(); add_entry(b, 90, {"resourceType": "Patient", "identifier": [
    {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}]})
cases["dispense_patient_entry_nhs_number"] = b
b = dispense(); d = res(b, "MedicationDispense"); d["dosageInstruction"] = [
    {"sequence": 2, "text": "then one daily"}, {"sequence": 1, "text": "two now"}, {"sequence": 1, "text": "one at night"}]
cases["dispense_dosage_sequences_joined"] = b
b = dispense(); res(b, "MedicationDispense")["quantity"]["value"] = 1.50
cases["dispense_quantity_decimal"] = b
b = dispense(); del dispense_org(b)["extension"]; cases["dispense_reimbursement_authority_missing_refused"] = b
b = dispense(); dispense_org(b)["extension"][0]["extension"] = []
cases["dispense_reimbursement_authority_code_missing_refused"] = b
b = dispense(); del dispense_org(b)["telecom"]; cases["dispense_organization_without_telecom_uses_role_telecom"] = b
b = dispense(); dispense_header(b)["response"]["identifier"] = "not-a-uuid"
cases["dispense_release_id_not_a_uuid"] = b

NDR_SYSTEM = "https://fhir.nhs.uk/CodeSystem/medicationdispense-status-reason"


def not_dispensed(d, code="0002", display="Clinically unsuitable"):
    coding = {"system": NDR_SYSTEM, "code": code, "display": display}
    d["type"]["coding"][0].update(code="0002", display="Item not dispensed")
    d["statusReasonCodeableConcept"] = {"coding": [dict(coding)]}
    d["extension"].append({"url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionNonDispensingReason",
                           "valueCoding": dict(coding)})
    return d


cases["dispense_non_dispensing_reason"] = dispense(not_dispensed(medication_dispense(1, 1)))
cases["dispense_non_dispensing_reason_on_one_dispense_only"] = dispense(
    not_dispensed(medication_dispense(1, 1)), medication_dispense(2, 2))
cases["dispense_non_dispensing_reasons_disagree_refused"] = dispense(
    not_dispensed(medication_dispense(1, 1)), not_dispensed(medication_dispense(2, 2), "0003", "Owings note issued to patient"))
b = dispense(not_dispensed(medication_dispense(1, 1)))
res(b, "MedicationDispense")["statusReasonCodeableConcept"]["coding"][0]["system"] = "https://example.org/reason"
cases["dispense_status_reason_other_system_refused"] = b

# The dispenses of one notification agree (the reference's dispense bundle checks)
b = dispense(medication_dispense(1, 1), medication_dispense(2, 2))
res(b, "MedicationDispense", 1)["whenHandedOver"] = "2022-01-31T11:00:00+01:00"
cases["dispense_when_handed_over_disagree_refused"] = b
b = dispense(medication_dispense(1, 1), medication_dispense(2, 2))
res(b, "MedicationDispense", 1)["subject"]["identifier"]["value"] = "9000000009"
cases["dispense_nhs_numbers_disagree_refused"] = b
b = dispense(medication_dispense(1, 1), medication_dispense(2, 2))
res(b, "MedicationDispense", 1)["extension"].append({
    "url": EPS_REPEAT_INFO, "extension": [{"url": "numberOfRepeatsAllowed", "valueInteger": 2}]})
cases["dispense_repeat_information_disagree_refused"] = b
b = dispense(medication_dispense(1, 1), medication_dispense(2, 2))
d2 = res(b, "MedicationDispense", 1); d2["contained"][0]["id"] = "performer-2"
d2["performer"][0]["actor"]["reference"] = "#performer-2"
cases["dispense_performers_disagree_refused"] = b
b = dispense(medication_dispense(1, 1), medication_dispense(2, 2))
res(b, "MedicationDispense", 1)["performer"] = []
cases["dispense_without_performer_refused"] = b
b = dispense(); res(b, "MedicationDispense")["medicationReference"] = {"reference": U(92)}
cases["dispense_medication_reference_and_codeable_concept_refused"] = b
b = dispense(); res(b, "MedicationDispense")["contained"][0]["practitioner"] = {"reference": U(93)}
cases["dispense_practitioner_by_reference_refused"] = b

b = dispense(medication_dispense(1, 1), medication_dispense(2, 2))
res(b, "MedicationDispense", 1)["whenHandedOver"] = "2022-01-31T11:00:00+01:00"
res(b, "MedicationDispense", 1)["performer"] = []
res(b, "MedicationDispense")["medicationReference"] = {"reference": U(92)}
del dispense_org(b)["extension"]
cases["dispense_bundle_issues_refused_together"] = b

# Repeat dispensing: the repeat numbers of the header (EPS repeat information on basedOn) and
# of the line item (UK Core repeat information and numberOfRepeatsAllowed)
def repeat_dispense(mr, issued=1, allowed=5, prescriptions_issued=2):
    mr["basedOn"] = [{"reference": "#requestgroup", "extension": [{"url": EPS_REPEAT_INFO, "extension": [
        {"url": "numberOfRepeatsAllowed", "valueInteger": allowed},
        {"url": "numberOfRepeatsIssued", "valueInteger": issued}]}]}]
    if prescriptions_issued is not None:
        mr.setdefault("extension", []).append({"url": REPEAT_INFO, "extension": [
            {"url": "numberOfPrescriptionsIssued", "valueUnsignedInt": prescriptions_issued}]})
    mr["dispenseRequest"]["numberOfRepeatsAllowed"] = allowed
    return mr


b = dispense(); repeat_dispense(res(b, "MedicationDispense")["contained"][1])
cases["dispense_repeat_dispensing_repeat_numbers"] = b
b = dispense(); repeat_dispense(res(b, "MedicationDispense")["contained"][1], prescriptions_issued=None)
cases["dispense_repeat_dispensing_header_repeat_number_only"] = b
b = dispense(); m = repeat_dispense(res(b, "MedicationDispense")["contained"][1])
del m["basedOn"]
cases["dispense_repeat_dispensing_line_item_repeat_number_only"] = b
b = dispense(); m = repeat_dispense(res(b, "MedicationDispense")["contained"][1])
del m["basedOn"][0]["extension"][0]["extension"][1]
cases["dispense_repeat_dispensing_repeats_issued_missing_refused"] = b

b = dispense(); m = repeat_dispense(res(b, "MedicationDispense")["contained"][1])
m["extension"].append(copy.deepcopy(m["extension"][-1]))
cases["dispense_repeat_dispensing_two_uk_core_repeat_informations_refused"] = b
b = dispense(); m = repeat_dispense(res(b, "MedicationDispense")["contained"][1])
m["basedOn"][0]["extension"].append(copy.deepcopy(m["basedOn"][0]["extension"][0]))
cases["dispense_repeat_dispensing_two_eps_repeat_informations_refused"] = b
# Numbers of the repeat information as the reference reads them: the header's repeats issued
# as the whole number the text starts with, the repeats allowed as a number, each plus one;
# the line item's prescriptions issued as written, its repeats allowed as a whole number plus one
b = dispense(); m = repeat_dispense(res(b, "MedicationDispense")["contained"][1])
m["basedOn"][0]["extension"][0]["extension"][0]["valueInteger"] = 1.5
m["basedOn"][0]["extension"][0]["extension"][1]["valueInteger"] = 2.5
m["extension"][-1]["extension"][0]["valueUnsignedInt"] = 0.5
m["dispenseRequest"]["numberOfRepeatsAllowed"] = "1.50"
cases["dispense_repeat_dispensing_numbers_not_whole"] = b
# Extensions the reference reads once: two are refused
b = dispense(); d = res(b, "MedicationDispense"); d["extension"].append(copy.deepcopy(d["extension"][0]))
cases["dispense_two_business_statuses_refused"] = b
b = dispense(); o = dispense_org(b); o["extension"].append(copy.deepcopy(o["extension"][0]))
cases["dispense_two_organisation_relationships_refused"] = b
b = dispense(); o = dispense_org(b); o["extension"][0]["extension"].append(copy.deepcopy(o["extension"][0]["extension"][0]))
cases["dispense_two_reimbursement_authorities_refused"] = b
b = copy.deepcopy(cases["dispense_amendment_replaces_message"]); h = dispense_header(b)
h["extension"].append(copy.deepcopy(h["extension"][0])); cases["dispense_two_replacement_ofs_refused"] = b
b = dispense(); g = res(b, "MedicationDispense")["contained"][1]["groupIdentifier"]
g["extension"].append(copy.deepcopy(g["extension"][0])); cases["dispense_two_prescription_ids_refused"] = b
# The checks every message Bundle has: telecoms of the Bundle's Organizations need a value and a use
b = dispense(); del dispense_org(b)["telecom"][0]["use"]; cases["dispense_organization_telecom_without_use_refused"] = b
# A Patient entry gives the NHS number; one without an NHS number is refused (the reference
# writes a patient id with no NHS number)
b = copy.deepcopy(cases["dispense_patient_entry_nhs_number"])
res(b, "Patient")["identifier"][0]["system"] = "https://example.org/patient-id"
cases["dispense_patient_entry_without_nhs_number_refused"] = b

# --- Claims: the fictional dispenser as contained resources, one prescription's line items ---
CLAIM_EXT = "https://fhir.nhs.uk/StructureDefinition/Extension-"
ENDORSEMENT = "https://fhir.nhs.uk/CodeSystem/medicationdispense-endorsement"
CHARGE = "https://fhir.nhs.uk/CodeSystem/DM-prescription-charge"
EXEMPTION = "https://fhir.nhs.uk/CodeSystem/prescription-charge-exemption"
EVIDENCE = "https://fhir.nhs.uk/CodeSystem/DM-exemption-evidence"
DISPENSE_TYPE = "https://fhir.nhs.uk/CodeSystem/medicationdispense-type"
SNOMED = "http://snomed.info/sct"


def claim_detail(n):
    item_id = f"c0000000-0000-4000-8000-0000000001{n:02d}"
    product = {"coding": [{"system": SNOMED, "code": "39720311000001101", "display": "Paracetamol 500mg tablets"}]}
    quantity = {"value": 10 * n, "unit": "tablet", "system": SNOMED, "code": "428673006"}
    return {"extension": [
                {"url": CLAIM_EXT + "ClaimSequenceIdentifier",
                 "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/claim-sequence-identifier",
                                     "value": f"c0000000-0000-4000-8000-0000000002{n:02d}"}},
                {"url": CLAIM_EXT + "ClaimMedicationRequestReference",
                 "valueReference": {"identifier": {"system": "https://fhir.nhs.uk/Id/prescription-order-item-number",
                                                   "value": item_id}}}],
            "sequence": n, "productOrService": product,
            "modifier": [{"coding": [{"system": DISPENSE_TYPE, "code": "0001", "display": "Item fully dispensed"}]}],
            "quantity": quantity,
            "programCode": [{"coding": [{"system": ENDORSEMENT, "code": "NDEC", "display": "No Dispenser Endorsement Code"}]},
                            {"coding": [{"system": CHARGE, "code": "not-paid", "display": "Not Paid"}]}],
            "subDetail": [{"sequence": 1, "productOrService": product, "quantity": quantity}]}


def claim(details=1):
    """A claim by the release request's dispenser for one prescription."""
    role = copy.deepcopy(param(release(), "agent")["resource"])
    role["id"] = "role"
    role["organization"] = {"reference": "#org"}
    org = copy.deepcopy(param(release(), "owner")["resource"])
    org["id"] = "org"
    return {"resourceType": "Claim", "id": "claim-1", "contained": [role, org],
            "identifier": [{"system": RFC4122, "value": "c0000000-0000-4000-8000-00000000000c"}],
            "status": "active",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
            "use": "claim",
            "patient": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9999999999"}},
            "created": "2022-01-31T10:20:30+01:00",
            "provider": {"reference": "#role"},
            "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
            "prescription": {"extension": [{"url": CLAIM_EXT + "DM-GroupIdentifier", "extension": [
                {"url": "shortForm", "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/prescription-order-number", "value": GROUP}},
                {"url": "UUID", "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/prescription",
                                                    "value": "c0000000-0000-4000-8000-00000000000d"}}]}]},
            "payee": {"party": {"reference": "#org"}},
            "insurance": [{"sequence": 1, "focal": True, "coverage": {
                "identifier": {"system": ODS, "value": "T1450"}, "display": "NHS BUSINESS SERVICES AUTHORITY"}}],
            "item": [{"sequence": 1, "extension": [
                {"url": CLAIM_EXT + "EPS-TaskBusinessStatus",
                 "valueCoding": {"system": "https://fhir.nhs.uk/CodeSystem/EPS-task-business-status", "code": "0006", "display": "Dispensed"}}],
                "productOrService": {"coding": [{"system": SNOMED, "code": "16076005", "display": "Prescription"}]},
                "programCode": [{"coding": [{"system": EXEMPTION, "code": "0001", "display": "Patient has paid appropriate charges"}]}],
                "detail": [claim_detail(n + 1) for n in range(details)]}]}


cases["claim_basic"] = claim()
cases["claim_two_line_items"] = claim(2)
b = claim(); b["extension"] = [{"url": CLAIM_EXT + "replacementOf", "valueIdentifier": {
    "system": RFC4122, "value": "c0000000-0000-4000-8000-00000000000e"}}]; cases["claim_amendment_replaces_earlier_claim"] = b
b = claim(); b["item"][0]["programCode"] = [{"coding": [{"system": EXEMPTION, "code": "0004", "display": "Under 16"}]},
                                            {"coding": [{"system": EVIDENCE, "code": "evidence-seen"}]}]
cases["claim_exemption_with_evidence_seen"] = b
b = claim(); b["item"][0]["programCode"] = [{"coding": [{"system": EXEMPTION, "code": "0004"}]},
                                            {"coding": [{"system": EVIDENCE, "code": "no-evidence-seen"}]}]
cases["claim_exemption_without_evidence_seen"] = b
b = claim(); b["item"][0]["programCode"] = []; cases["claim_without_exemption_has_no_coverage"] = b
b = claim(); b["item"][0]["detail"][0]["programCode"][1]["coding"][0]["code"] = "paid-once"; cases["claim_charge_paid_once"] = b
b = claim(); b["item"][0]["detail"][0]["programCode"][1]["coding"][0]["code"] = "paid-sometimes"; cases["claim_charge_code_other_refused"] = b
b = claim(); b["item"][0]["detail"][0]["programCode"][0]["text"] = "Broken bulk"; cases["claim_endorsement_with_text"] = b
b = claim(); b["item"][0]["detail"][0]["programCode"].pop(0); cases["claim_without_endorsement_refused"] = b
b = claim(2); b["item"][0]["detail"][0]["programCode"].pop(0); cases["claim_endorsement_read_on_first_line_item_only_refused"] = b
b = claim(); b["insurance"].append(copy.deepcopy(b["insurance"][0])); cases["claim_two_insurances_refused"] = b
b = claim(); b["insurance"][0]["coverage"]["identifier"]["value"] = "FXP99"; cases["claim_authority_other_refused"] = b
b = claim(); b["insurance"][0]["coverage"]["identifier"]["value"] = "RQFZ1"; cases["claim_authority_rqfz1"] = b
b = claim(); contained(b, "PractitionerRole")["practitioner"] = {"reference": "Practitioner/p1"}
cases["claim_practitioner_reference_refused"] = b
b = claim(); b["provider"] = {"reference": "#nobody"}; cases["claim_provider_not_contained_refused"] = b
b = claim(); b["item"][0]["extension"].append({"url": CLAIM_EXT + "EPS-TaskBusinessStatusReason", "valueCoding": {
    "system": "https://fhir.nhs.uk/CodeSystem/medicationdispense-status-reason", "code": "0002", "display": "Clinically unsuitable"}})
cases["claim_non_dispensing_reason"] = b

# Repeat dispensing claims: the repeat information on the item gives the supply header's repeat
# number and each line item's own; without it, the first line item's gives the header's and each
# line item's first quantity (subDetail) its own
def claim_repeat(issued=1, allowed=5):
    return {"url": EPS_REPEAT_INFO, "extension": [{"url": "numberOfRepeatsAllowed", "valueInteger": allowed},
                                                  {"url": "numberOfRepeatsIssued", "valueInteger": issued}]}


b = claim(2); b["item"][0]["extension"].append(claim_repeat())
for n, d in enumerate(b["item"][0]["detail"]):
    d["extension"].append(claim_repeat(n + 1))
cases["claim_repeat_information_on_item_and_line_items"] = b
b = claim(); b["item"][0]["extension"].append(claim_repeat(2, 6)); cases["claim_repeat_information_on_item_only"] = b
b = claim(2); b["item"][0]["detail"][0]["extension"].append(claim_repeat(0, 3))
for d in b["item"][0]["detail"]:
    d["subDetail"][0]["extension"] = [claim_repeat(1, 3)]
cases["claim_repeat_information_on_first_line_item_and_quantities"] = b
b = claim(); b["item"][0]["extension"].append(claim_repeat(1.5, "4"))
cases["claim_repeat_numbers_not_whole"] = b
b = claim(); b["item"][0]["extension"].append(claim_repeat()); del b["item"][0]["extension"][-1]["extension"][1]
cases["claim_repeat_information_without_repeats_issued_refused"] = b
b = claim(); b["item"][0]["extension"].append(claim_repeat()); b["item"][0]["extension"].append(claim_repeat())
cases["claim_two_repeat_informations_refused"] = b
# The reimbursement authority's name is written, empty without a display
b = claim(); del b["insurance"][0]["coverage"]["display"]; cases["claim_coverage_without_display"] = b
# Extensions and codings the reference reads once: two are refused
b = claim(); b["item"][0]["extension"].append(copy.deepcopy(b["item"][0]["extension"][0]))
cases["claim_two_business_statuses_refused"] = b
b = claim(); x = b["item"][0]["detail"][0]["extension"]; x.append(copy.deepcopy(x[1]))
cases["claim_two_medication_request_references_refused"] = b
b = claim(); x = b["item"][0]["detail"][0]["extension"]; x.append(copy.deepcopy(x[0]))
cases["claim_two_sequence_identifiers_refused"] = b
b = claim(); m = b["item"][0]["detail"][0]["modifier"]; m.append(copy.deepcopy(m[0]))
cases["claim_two_dispense_types_refused"] = b
b = claim(); b["item"][0]["programCode"].append(copy.deepcopy(b["item"][0]["programCode"][0]))
cases["claim_two_exemptions_refused"] = b
b = copy.deepcopy(cases["claim_amendment_replaces_earlier_claim"]); b["extension"].append(copy.deepcopy(b["extension"][0]))
cases["claim_two_replacement_ofs_refused"] = b

# A list the reference picks one item from: absent is a missing field, empty is too few values
b = release(); del param(b, "owner")["resource"]["identifier"]; cases["release_owner_without_identifier_refused"] = b
b = release(); param(b, "owner")["resource"]["identifier"] = []; cases["release_owner_identifier_empty_refused"] = b
b = task("in-progress"); del contained(b, "Organization")["identifier"]
cases["withdraw_organization_without_identifier_refused"] = b
b = dispense(); del res(b, "MedicationDispense")["extension"]; cases["dispense_without_extension_refused"] = b
b = dispense(); res(b, "MedicationDispense")["extension"] = []; cases["dispense_extension_empty_refused"] = b
b = dispense(); del res(b, "MedicationDispense")["contained"][1]["identifier"]
cases["dispense_order_item_without_identifier_refused"] = b
# An absent extension list differs from one without the extension the dispenses must agree on
b = dispense(medication_dispense(1, 1), medication_dispense(2, 2)); del res(b, "MedicationDispense", 1)["extension"]
cases["dispense_second_dispense_without_extension_refused"] = b
b = claim(); del b["identifier"]; cases["claim_without_identifier_refused"] = b
b = claim(); b["identifier"] = []; cases["claim_identifier_empty_refused"] = b
b = claim(); del contained(b, "Organization")["identifier"]; cases["claim_organization_without_identifier_refused"] = b
b = claim(); del b["item"][0]["extension"]; cases["claim_item_without_extension_refused"] = b
b = claim(); del b["item"][0]["detail"][0]["extension"]; cases["claim_line_item_without_extension_refused"] = b
b = claim(); del b["item"][0]["detail"][0]["modifier"]; cases["claim_line_item_without_modifier_refused"] = b
b = claim(); b["item"][0]["detail"][0]["modifier"] = []; cases["claim_line_item_modifier_empty_refused"] = b
b = claim(); del b["prescription"]["extension"][0]["extension"]
cases["claim_group_identifier_without_extension_refused"] = b
# An absent date-time the message needs is refused as a date-time written "undefined"
b = task("rejected"); del b["authoredOn"]; cases["return_without_authored_on_refused"] = b
b = dispense(); del res(b, "MedicationDispense")["whenHandedOver"]; cases["dispense_without_when_handed_over_refused"] = b
b = claim(); del b["created"]; cases["claim_without_created_refused"] = b
# An extension without url is one no url lookup finds
b = dispense(); del res(b, "MedicationDispense")["extension"][0]["url"]; cases["dispense_business_status_without_url_refused"] = b
b = claim(); del b["item"][0]["detail"][0]["extension"][1]["url"]
cases["claim_medication_request_reference_without_url_refused"] = b
b = task("rejected"); b["extension"] = [repeat_info(2)]; del b["extension"][0]["extension"][0]["url"]
cases["return_repeat_information_part_without_url_ignored"] = b
# A parameter or contained resource without resourceType, or of a type EPS does not use, is
# refused where a reference to it expects another type
b = release(); del param(b, "owner")["resource"]["resourceType"]; cases["release_owner_without_resource_type_refused"] = b
b = release(); del param(b, "agent")["resource"]["resourceType"]; cases["release_agent_without_resource_type_refused"] = b
b = task("rejected"); del contained(b, "PractitionerRole")["resourceType"]
cases["return_contained_role_without_resource_type_refused"] = b
b = claim(); contained(b, "Organization")["resourceType"] = "Basic"; cases["claim_contained_organization_other_type_refused"] = b
# A JSON object that is none of the messages convert takes
b = release(); del b["resourceType"]; cases["release_without_resource_type_refused"] = b
b = task("rejected"); b["resourceType"] = "Patient"; cases["return_other_resource_type_refused"] = b

if __name__ == "__main__":
    for f in os.listdir(HERE):
        if f.endswith(".json") and "." not in f[:-5]:
            os.remove(os.path.join(HERE, f))
    for name, bundle in sorted(cases.items()):
        with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases written to {HERE}")
