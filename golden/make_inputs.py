#!/usr/bin/env python3
"""Writes the synthetic input Bundles under golden/convert/ (fictional people and places).

Each case is a small mutation of one minimal prescription-order Bundle. The expected outputs
beside them are written by the golden test driver: `UPDATE_EXPECT=1 cargo test --test golden`.
Run this script only to add or change inputs.
"""
import base64, copy, json, os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "convert")
U = lambda n: f"urn:uuid:00000000-0000-4000-8000-{n:012d}"

def mr(n, item):
    return {
        "resourceType": "MedicationRequest",
        "extension": [{"url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType",
                       "valueCoding": {"system": "https://fhir.nhs.uk/CodeSystem/prescription-type", "code": "0101"}}],
        "identifier": [{"system": "https://fhir.nhs.uk/Id/prescription-order-item-number", "value": item}],
        "status": "active", "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "39732311000001104", "display": "Amoxicillin 250mg capsules"}]},
        "subject": {"reference": U(3)}, "requester": {"reference": U(5)},
        "groupIdentifier": {"extension": [{"url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId",
                                           "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/prescription", "value": "a1b2c3d4-0000-4000-8000-000000000001"}}],
                            "system": "https://fhir.nhs.uk/Id/prescription-order-number", "value": "6BC03A-A83008-485BAR"},
        "courseOfTherapyType": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy", "code": "acute"}]},
        "dosageInstruction": [{"text": "One capsule three times a day"}],
        "dispenseRequest": {"extension": [{"url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PerformerSiteType",
                                           "valueCoding": {"system": "https://fhir.nhs.uk/CodeSystem/dispensing-site-preference", "code": "P1"}}],
                            "quantity": {"value": 21, "unit": "capsule", "system": "http://snomed.info/sct", "code": "3316911000001105"},
                            "performer": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "FA000"}}},
        "substitution": {"allowedBoolean": False},
    }

def base():
    entries = [
        {"fullUrl": U(1), "resource": {"resourceType": "MessageHeader",
            "eventCoding": {"system": "https://fhir.nhs.uk/CodeSystem/message-event", "code": "prescription-order"},
            "sender": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X00001"}},
            "source": {"endpoint": "urn:nhs-uk:addressing:ods:X00001"}, "focus": [{"reference": U(3)}, {"reference": U(2)}]}},
        {"fullUrl": U(2), "resource": mr(2, "b0000000-0000-4000-8000-000000000002")},
        {"fullUrl": U(3), "resource": {"resourceType": "Patient",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9999999999"}],
            "name": [{"use": "usual", "family": "EXAMPLE", "given": ["ALEX"], "prefix": ["MX"]}],
            "gender": "unknown", "birthDate": "1990-01-02",
            "address": [{"use": "home", "line": ["1 TEST STREET", "TESTTOWN"], "postalCode": "ZZ1 1ZZ"}],
            "generalPractitioner": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X00001"}}]}},
        {"fullUrl": U(4), "resource": {"resourceType": "Practitioner",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "100000000001"},
                           {"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C1234567"}],
            "name": [{"family": "DOCTOR", "given": ["SAM"], "prefix": ["DR"]}]}},
        {"fullUrl": U(5), "resource": {"resourceType": "PractitionerRole",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "100000000002"}],
            "practitioner": {"reference": U(4)}, "organization": {"reference": U(6)},
            "code": [{"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode", "code": "R8000"}]}],
            "telecom": [{"system": "phone", "value": "01000 000000", "use": "work"}]}},
        {"fullUrl": U(6), "resource": {"resourceType": "Organization",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X00001"}],
            "name": "TEST SURGERY", "telecom": [{"system": "phone", "value": "01000 000001", "use": "work"}],
            "address": [{"use": "work", "line": ["2 TEST ROAD"], "city": "TESTTOWN", "postalCode": "ZZ1 1ZY"}],
            "partOf": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X0A"}, "display": "TEST ICB"}}},
    ]
    return {"resourceType": "Bundle", "identifier": {"system": "https://tools.ietf.org/html/rfc4122", "value": "c0000000-0000-4000-8000-000000000000"},
            "type": "message", "entry": entries}

SIGNATURE = base64.b64encode(
    b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">\n  <SignedInfo></SignedInfo>\n  <SignatureValue>ABC=</SignatureValue>\n</Signature>'
).decode()

def resource(b, kind, n=0):
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == kind][n]

def add_mr(b, item):
    new = copy.deepcopy(resource(b, "MedicationRequest"))
    new["identifier"][0]["value"] = item
    b["entry"].insert(2, {"fullUrl": U(9), "resource": new})
    return new

cases = {}
b = base(); cases["acute_minimal"] = b

b = base(); p = resource(b, "Patient")
p["name"][0]["family"] = "O'Brien & Sons <Ltd> \"Q\""
p["name"][0]["given"] = ["Zoë", "Łukasz 王小明"]
p["address"][0]["line"][0] = "Flat 1 & 2 <rear>"
m = resource(b, "MedicationRequest")
m["dosageInstruction"][0]["text"] = "Take 1 & then 2 <with food> \"ok\" 'now' — ½ dose 💊"
m["note"] = [{"text": "Note: A & B <c> &amp; literal"}]
m["medicationCodeableConcept"]["coding"][0]["display"] = "Capsule & \"cap\" 'x' <y>\tz"
cases["escaping_and_unicode"] = b

b = base(); m = resource(b, "MedicationRequest"); m["dispenseRequest"]["quantity"]["value"] = "__1.50__"
m2 = add_mr(b, "b0000000-0000-4000-8000-000000000003"); m2["dispenseRequest"]["quantity"]["value"] = "__0.5__"
m3 = add_mr(b, "b0000000-0000-4000-8000-000000000004"); m3["dispenseRequest"]["quantity"]["value"] = "__1e1__"
cases["numbers_keep_their_text"] = b

b = base(); m = resource(b, "MedicationRequest")
m["dosageInstruction"] = [{"sequence": 2, "text": "then one daily"}, {"sequence": 1, "text": "two at once"}, {"sequence": 1, "text": "with water"}]
cases["several_dosages_by_sequence"] = b

b = base(); m = resource(b, "MedicationRequest")
m["courseOfTherapyType"]["coding"][0]["code"] = "continuous-repeat-dispensing"
m["dispenseRequest"]["numberOfRepeatsAllowed"] = 5
m["dispenseRequest"]["validityPeriod"] = {"start": "2022-10-21T00:30:00+01:00", "end": "2023-04-20"}
m["dispenseRequest"]["expectedSupplyDuration"] = {"value": 28, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"}
m["extension"][0]["valueCoding"]["code"] = "0101"
cases["repeat_dispensing"] = b

b = base(); b["entry"].append({"fullUrl": U(7), "resource": {"resourceType": "Provenance", "target": [{"reference": U(2)}],
    "signature": [{"type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1"}], "when": "2022-10-21T14:47:00.999+01:00", "who": {"reference": U(5)},
                   "data": SIGNATURE}]}})
cases["signed_with_offset_time"] = b

# cancellation
b = base(); resource(b, "MessageHeader")["eventCoding"]["code"] = "prescription-order-update"
m = resource(b, "MedicationRequest"); m["status"] = "cancelled"
m["statusReason"] = {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason", "code": "0001", "display": "Prescribing Error"}]}
cases["cancellation"] = b

# errors
b = base(); resource(b, "MedicationRequest")["intent"] = "plan"; cases["err_intent_plan"] = b
b = base(); m2 = add_mr(b, "b0000000-0000-4000-8000-000000000005"); m2["courseOfTherapyType"]["coding"][0]["code"] = "continuous-repeat-dispensing"; cases["err_course_of_therapy_mixed"] = b
b = base(); resource(b, "MedicationRequest")["dosageInstruction"] = []; cases["err_missing_dosage"] = b
b = base(); resource(b, "MedicationRequest")["dosageInstruction"] = [{"text": "a"}, {"text": "b", "sequence": 2}]; cases["err_dosage_without_sequence"] = b
b = base(); resource(b, "MedicationRequest")["medicationReference"] = {"reference": U(8)}; cases["err_medication_code_and_reference"] = b
b = base(); resource(b, "MessageHeader")["eventCoding"]["code"] = "dispense-notification"; cases["err_dispense_notification_without_dispenses"] = b
b = base(); m2 = add_mr(b, "b0000000-0000-4000-8000-000000000006"); m2["authoredOn"] = "2022-01-01T00:00:00Z"; cases["err_fields_disagree"] = b
b = base(); resource(b, "MessageHeader")["eventCoding"]["code"] = "prescription-order-update"; cases["err_cancel_status_not_cancelled"] = b
b = base(); resource(b, "Patient")["birthDate"] = "2021-02-31"; cases["err_impossible_date"] = b
b = base(); resource(b, "Patient")["name"][0]["family"] = "NUL\u0000END"; cases["err_non_xml_character"] = b
b = base(); resource(b, "MedicationRequest")["requester"] = {"reference": "urn:uuid:dangling"}; cases["err_dangling_reference"] = b
b = base(); b["resourceType"] = "Parameters"; cases["err_not_a_bundle"] = b
cases["err_task_without_requester"] = {"resourceType": "Task", "identifier": [{"system": "https://tools.ietf.org/html/rfc4122", "value": "c0000000-0000-4000-8000-000000000009"}],
                                  "status": "in-progress", "intent": "order"}
cases["err_patient_not_a_bundle"] = {"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9999999999"}]}

for f in os.listdir(HERE):
    if f.endswith(".json") and not f.endswith(".err.json"):
        os.remove(os.path.join(HERE, f))
for name, bundle in cases.items():
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    text = text.replace('"__', "").replace('__"', "")  # number tokens written as-is
    with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
with open(os.path.join(HERE, "err_invalid_json.json"), "w") as f:
    f.write('{"resourceType": "Bundle", "entry": [ }\n')
with open(os.path.join(HERE, "err_not_utf8.json"), "wb") as f:
    f.write(b'{"resourceType": "Bundle", "entry": [], "x": "\xff\xfe"}\n')
