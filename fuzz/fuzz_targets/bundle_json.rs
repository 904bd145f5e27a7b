#![no_main]
//! Structure-aware: corpus Bundles mutated as JSON, then `convert` and `prepare`.
//!
//! A custom mutator parses the input as JSON and makes one to four edits at members chosen
//! at random: delete a member or array element, duplicate an array element or copy a member
//! into another object, retype a value (string, number, boolean, null, array, object), change
//! a string (truncate, repeat, empty, another string of the same Bundle — which re-points
//! references — or a token FHIR uses), or replace a value with a copy of another. The result
//! is still JSON, so the translation gets past the parser into the rules. One mutation in
//! eight (and every input that is not JSON) is left to libFuzzer's byte-level mutations.
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    eps_translator_fuzz::timed(|| eps_translator_fuzz::bundle_json(data));
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let mut rng = Rng(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    if rng.below(8) == 0 {
        return fuzzer_mutate(data, size, max_size);
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&data[..size]) else {
        return fuzzer_mutate(data, size, max_size);
    };
    for _ in 0..=rng.below(4) {
        edit(&mut value, &mut rng);
    }
    let out = if rng.below(2) == 0 {
        serde_json::to_vec(&value)
    } else {
        serde_json::to_vec_pretty(&value)
    }
    .expect("a Value serialises");
    if out.len() > max_size {
        return fuzzer_mutate(data, size, max_size);
    }
    data[..out.len()].copy_from_slice(&out);
    out.len()
});

/// xorshift64: the mutator's choices, from libFuzzer's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

/// Strings the translation reads or compares against.
const TOKENS: &[&str] = &[
    "",
    "Bundle",
    "message",
    "searchset",
    "MessageHeader",
    "MedicationRequest",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "HealthcareService",
    "Location",
    "Provenance",
    "CommunicationRequest",
    "List",
    "MedicationDispense",
    "prescription-order",
    "prescription-order-update",
    "dispense-notification",
    "active",
    "cancelled",
    "order",
    "original-order",
    "instance-order",
    "plan",
    "urn:uuid:",
    "#",
    "https://fhir.nhs.uk/Id/prescription-order-number",
    "https://fhir.nhs.uk/Id/prescription-order-item-number",
    "https://fhir.nhs.uk/Id/nhs-number",
    "https://fhir.nhs.uk/Id/ods-organization-code",
    "https://fhir.nhs.uk/Id/sds-role-profile-id",
    "https://fhir.nhs.uk/Id/sds-user-id",
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType",
    "https://fhir.nhs.uk/CodeSystem/prescription-type",
    "http://snomed.info/sct",
    "2022-02-30",
    "2022-01-31T00:00:00+00:00",
    "2022-01-31T24:00:00Z",
    "0001-01-01",
    "9999-12-31T23:59:59.999999999+14:00",
    "-1",
    "0",
    "1e400",
    "A0548B-A99968-451485",
    "\u{0}",
    "\u{1F600}",
    "<",
    "]]>",
];

/// The JSON pointer of every value below the root, with whether it is a container.
fn pointers(value: &Value, at: &mut String, out: &mut Vec<String>) {
    let len = at.len();
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                at.push('/');
                at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                out.push(at.clone());
                pointers(member, at, out);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push('/');
                at.push_str(&i.to_string());
                out.push(at.clone());
                pointers(item, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

fn strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn split(pointer: &str) -> (&str, String) {
    let i = pointer.rfind('/').expect("a pointer below the root");
    (
        &pointer[..i],
        pointer[i + 1..].replace("~1", "/").replace("~0", "~"),
    )
}

fn edit(root: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    pointers(root, &mut String::new(), &mut all);
    let Some(target) = rng.pick(&all).cloned() else {
        return;
    };
    let (parent, key) = split(&target);
    match rng.below(6) {
        0 => match root.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.shift_remove(&key);
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = key.parse::<usize>() {
                    items.remove(i);
                }
            }
            _ => {}
        },
        1 => {
            let copy = root.pointer(&target).cloned().unwrap_or(Value::Null);
            match root.pointer_mut(parent) {
                Some(Value::Array(items)) => {
                    let i = key.parse::<usize>().unwrap_or(0);
                    items.insert(i, copy);
                }
                Some(Value::Object(_)) => {
                    // Into another object, under the same name.
                    let objects: Vec<&String> = all
                        .iter()
                        .filter(|p| matches!(root.pointer(p), Some(Value::Object(_))))
                        .collect();
                    if let Some(other) = rng.pick(&objects).map(|p| p.to_string()) {
                        if let Some(Value::Object(map)) = root.pointer_mut(&other) {
                            map.insert(key, copy);
                        }
                    }
                }
                _ => {}
            }
        }
        2 => {
            let old = root.pointer(&target).cloned().unwrap_or(Value::Null);
            let new = retyped(old, rng);
            if let Some(v) = root.pointer_mut(&target) {
                *v = new;
            }
        }
        3 | 4 => {
            let mut texts = Vec::new();
            strings(root, &mut texts);
            let other = rng.pick(&texts).map(|s| s.to_string());
            if let Some(v) = root.pointer_mut(&target) {
                let s = match &mut *v {
                    Value::String(s) => std::mem::take(s),
                    value => value.to_string(),
                };
                *v = Value::String(changed(s, other, rng));
            }
        }
        _ => {
            let source = rng.pick(&all).cloned().unwrap_or_default();
            let copy = root.pointer(&source).cloned().unwrap_or(Value::Null);
            if let Some(v) = root.pointer_mut(&target) {
                *v = copy;
            }
        }
    }
}

fn retyped(old: Value, rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => {
            let n = ["0", "-1", "1.5", "1e308", "18446744073709551616", "-0.0"][rng.below(6)];
            serde_json::from_str(n).expect("a JSON number")
        }
        3 => Value::String(match &old {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        4 => Value::Array(vec![]),
        5 => Value::Array(vec![old]),
        6 => Value::Object(Map::new()),
        _ => {
            let mut map = Map::new();
            map.insert("value".into(), old);
            Value::Object(map)
        }
    }
}

fn changed(s: String, other: Option<String>, rng: &mut Rng) -> String {
    let boundary = |s: &str, rng: &mut Rng| {
        let mut i = rng.below(s.len() + 1);
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match rng.below(6) {
        0 => s[..boundary(&s, rng)].to_string(),
        1 => s.repeat(2 + rng.below(8)),
        2 => other.unwrap_or_default(),
        3 => {
            let i = boundary(&s, rng);
            let token = rng.pick(TOKENS).copied().unwrap_or_default();
            format!("{}{token}{}", &s[..i], &s[i..])
        }
        4 => format!("{s}{}", rng.pick(TOKENS).copied().unwrap_or_default()),
        _ => rng.pick(TOKENS).copied().unwrap_or_default().to_string(),
    }
}
