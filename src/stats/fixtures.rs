//! Test-only access to the published inter-rater reference datasets carried into tests/fixtures/irr (figures from the published sources listed in each file).

use serde_json::Value;

/// Names of every fixture, paired with its embedded JSON text.
pub const ALL: [(&str, &str); 5] = [
    ("irr_anxiety", include_str!("../../tests/fixtures/irr/irr_anxiety.json")),
    ("irr_diagnoses", include_str!("../../tests/fixtures/irr/irr_diagnoses.json")),
    ("irr_video", include_str!("../../tests/fixtures/irr/irr_video.json")),
    ("krippendorff_2011_example_C", include_str!("../../tests/fixtures/irr/krippendorff_2011_example_C.json")),
    ("shrout_fleiss_1979", include_str!("../../tests/fixtures/irr/shrout_fleiss_1979.json")),
];

/// Parsed fixture by name; panics in tests only, where a broken fixture should fail loudly.
pub fn load(name: &str) -> Value {
    let text = ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).expect("unknown fixture");
    serde_json::from_str(text).expect("fixture is valid JSON")
}

/// True when every non-null rating is a number, so interval statistics make sense.
pub fn is_numeric(ds: &Value) -> bool {
    ds["scale"]["type"].as_str() != Some("nominal") && units(ds).iter().flatten().all(|v| v.is_null() || v.is_number())
}

fn units(ds: &Value) -> Vec<Vec<Value>> {
    ds["ratings"].as_array().expect("ratings array").iter().map(|row| row.as_array().expect("ratings row").clone()).collect()
}

/// `ratings[unit][rater]` as f64 with `None` for null.
pub fn ratings_f64(ds: &Value) -> Vec<Vec<Option<f64>>> {
    units(ds).iter().map(|row| row.iter().map(|v| v.as_f64()).collect()).collect()
}

/// Rater labels in column order.
pub fn raters(ds: &Value) -> Vec<String> {
    ds["raters"].as_array().expect("raters").iter().map(|r| r.as_str().expect("rater label").to_string()).collect()
}

/// Whole-mark pairs (rater a, rater b) over the units both rated.
pub fn pair_marks(ds: &Value, a: usize, b: usize) -> (Vec<i32>, Vec<i32>) {
    ratings_f64(ds).iter().filter_map(|row| Some((row[a]? as i32, row[b]? as i32))).unzip()
}

/// An `expected` number, panicking with the key when it is absent.
pub fn expected(ds: &Value, path: &[&str]) -> f64 {
    let mut v = &ds["expected"];
    for p in path {
        v = &v[*p];
    }
    v.as_f64().unwrap_or_else(|| panic!("missing expected value {path:?}"))
}

/// Asserts `got` is `Some` and within `tol` of `want`.
pub fn assert_close(got: Option<f64>, want: f64, tol: f64, what: &str) {
    let g = got.unwrap_or_else(|| panic!("{what}: got None, want {want}"));
    assert!((g - want).abs() <= tol, "{what}: got {g}, want {want}");
}

/// Published values are rounded to 3 dp, so half a unit in the third place is the allowance.
pub const PUBLISHED_3DP: f64 = 5e-4;
/// `expected` values are stored to 6 dp.
pub const EXPECTED_6DP: f64 = 1e-6;
