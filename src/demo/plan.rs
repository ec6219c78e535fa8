//! What the demonstration meeting is made of, as plain data: its people and
//! their marking habits, the scripts with the principal examiner's marks, and
//! the marks each examiner gives. No database here, so it is tested alone.

use rand::{Rng, rngs::StdRng};
use serde::Deserialize;

use crate::meetings::Purpose;

/// How an examiner tends to mark, against the definitive mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Habit {
    /// Within a mark either way.
    Steady,
    /// Consistently below.
    Severe,
    /// Consistently above.
    Lenient,
    /// Far off in both directions.
    Erratic,
}

/// A person's part in the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The principal examiner.
    Principal,
    /// Team leader of the examiners with `in_team`.
    TeamLeader,
    /// An examiner.
    Examiner,
}

/// One demonstration account.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    /// Display name.
    pub name: &'static str,
    /// Sign-in email (the reserved `.example` domain: never a real address).
    pub email: &'static str,
    /// Role in the meeting.
    pub part: Part,
    /// How they mark.
    pub habit: Habit,
    /// In the team leader's team.
    pub in_team: bool,
    /// Scripts marked so far (the rest still to do), or every script.
    pub scripts_marked: Option<usize>,
}

const fn person(name: &'static str, email: &'static str, part: Part, habit: Habit, in_team: bool) -> Person {
    Person { name, email, part, habit, in_team, scripts_marked: None }
}

/// Everyone in the demonstration, principal examiner first.
pub const PEOPLE: [Person; 10] = [
    person("Margaret Okafor", "principal@demo.example", Part::Principal, Habit::Steady, false),
    person("David Lindqvist", "team.leader@demo.example", Part::TeamLeader, Habit::Steady, false),
    person("Aisha Rahman", "aisha.rahman@demo.example", Part::Examiner, Habit::Steady, false),
    person("Ben Carter", "ben.carter@demo.example", Part::Examiner, Habit::Severe, false),
    person("Chloe Davies", "chloe.davies@demo.example", Part::Examiner, Habit::Steady, true),
    person("Daniel Evans", "daniel.evans@demo.example", Part::Examiner, Habit::Lenient, true),
    person("Emma Fitzgerald", "emma.fitzgerald@demo.example", Part::Examiner, Habit::Steady, true),
    person("Farid Ghani", "farid.ghani@demo.example", Part::Examiner, Habit::Erratic, true),
    person("Grace Hughes", "grace.hughes@demo.example", Part::Examiner, Habit::Steady, false),
    // Still marking: the dashboard shows progress as well as results.
    Person { scripts_marked: Some(9), ..person("Harry Ingram", "harry.ingram@demo.example", Part::Examiner, Habit::Steady, false) },
];

/// Scripts the principal examiner has released to the examiners, from the first.
pub const RELEASED_SCRIPTS: usize = 4;

/// The scripts (by position) that make the qualification set; the rest are practice.
pub const QUALIFICATION_SCRIPTS: [usize; 2] = [6, 7];

/// Why the script at `index` is in the meeting.
pub fn purpose_of(index: usize) -> Purpose {
    if QUALIFICATION_SCRIPTS.contains(&index) { Purpose::Qualification } else { Purpose::Practice }
}

/// Who has marked the qualification set so far (three steady examiners pass, the severe one fails).
pub const QUALIFIED: [&str; 4] =
    ["aisha.rahman@demo.example", "chloe.davies@demo.example", "emma.fitzgerald@demo.example", "ben.carter@demo.example"];

/// Whom the principal examiner has approved to mark live already.
pub const APPROVED: &str = "aisha.rahman@demo.example";

/// Who referred a response the scheme did not foresee, and which (script, question by position).
pub const REFERRER: &str = "daniel.evans@demo.example";
/// See [`REFERRER`].
pub const REFERRED: (usize, usize) = (9, 1);
/// The referral's question.
pub const REFERRAL_QUESTION: &str = "The candidate argues that the telegraph, laid beside the lines, mattered as much as the \
     railways themselves. The scheme does not mention it: credit it as own knowledge (AO1(b))?";
/// The principal examiner's answer.
pub const REFERRAL_ANSWER: &str = "Yes: credit the telegraph as relevant own knowledge where it is tied to the railways' effect \
     on the economy. Added to the indicative content.";
/// The point the answer added to the scheme.
pub const AMENDMENT_POINT: &str = "the electric telegraph, laid along the railway lines, as part of the transformation in communications";
/// A referral still waiting for the principal examiner.
pub const WAITING_REFERRER: &str = "farid.ghani@demo.example";
/// See [`WAITING_REFERRER`].
pub const WAITING_REFERRED: (usize, usize) = (10, 2);
/// Its question.
pub const WAITING_QUESTION: &str =
    "This answer spends half its length on the 1851 Great Exhibition. Is that relevant context or narrative?";

/// The principal examiner has not decided these yet: the last script not at
/// all, the one before it on its first question only.
pub fn decided(script_index: usize, scripts: usize, question_index: usize) -> bool {
    match scripts - script_index {
        1 => false,
        2 => question_index == 0,
        _ => true,
    }
}

/// A candidate's script with the principal examiner's marks.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoScript {
    /// Candidate number.
    pub candidate: String,
    /// One answer per question.
    pub responses: Vec<DemoResponse>,
}

/// An answer, with the mark the principal examiner gives it and why.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoResponse {
    /// Question number.
    pub question: String,
    /// The candidate's answer.
    pub text: String,
    /// The definitive level.
    pub level: i32,
    /// The definitive mark.
    pub mark: i32,
    /// The principal examiner's rationale.
    pub rationale: String,
}

/// The demonstration scripts, embedded in the binary.
pub fn scripts() -> Vec<DemoScript> {
    // The file is part of the build and checked by a test: failing to read it is a bug.
    serde_json::from_str(include_str!("scripts.json")).expect("src/demo/scripts.json is valid")
}

/// The mark an examiner with `habit` gives an answer whose definitive mark is
/// `definitive` (out of `max`).
pub fn mark_given(habit: Habit, definitive: i32, max: i32, rng: &mut StdRng) -> i32 {
    // Offsets scale with the question: a 24-mark essay leaves more room to differ.
    let step = (max / 8).max(1);
    let offset = match habit {
        Habit::Steady => [-1, 0, 0, 0, 1][rng.gen_range(0..5)],
        Habit::Severe => -step - rng.gen_range(0..=1),
        Habit::Lenient => step + rng.gen_range(0..=1),
        Habit::Erratic => {
            let size = rng.gen_range(step..=2 * step + 1);
            if rng.gen_bool(0.5) { size } else { -size }
        }
    };
    (definitive + offset).clamp(0, max)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::markscheme;

    #[test]
    fn every_script_answers_every_question_within_its_bands() {
        let scheme = markscheme::parse(super::super::PAPER).into_result().expect("the demonstration paper parses");
        let scripts = scripts();
        assert_eq!(scripts.len(), 12);
        for s in &scripts {
            let numbers: Vec<&str> = s.responses.iter().map(|r| r.question.as_str()).collect();
            let want: Vec<&str> = scheme.questions.iter().map(|q| q.number.as_str()).collect();
            assert_eq!(numbers, want, "candidate {}", s.candidate);
            for (r, q) in s.responses.iter().zip(&scheme.questions) {
                assert_eq!(q.band_for(r.mark).map(|l| l.level), Some(r.level), "candidate {} question {}", s.candidate, q.number);
                assert!(!r.text.trim().is_empty() && !r.rationale.trim().is_empty());
            }
        }
    }

    #[test]
    fn habits_show_in_the_marks() {
        let mut rng = StdRng::seed_from_u64(7);
        let mean = |habit, rng: &mut StdRng| (0..400).map(|_| f64::from(mark_given(habit, 12, 24, rng) - 12)).sum::<f64>() / 400.0;
        assert!(mean(Habit::Severe, &mut rng) < -2.5);
        assert!(mean(Habit::Lenient, &mut rng) > 2.5);
        assert!(mean(Habit::Steady, &mut rng).abs() < 0.3);
        let spread = (0..400).map(|_| (mark_given(Habit::Erratic, 12, 24, &mut rng) - 12).abs()).min();
        assert!(spread >= Some(3), "an erratic examiner is never close");
        assert_eq!(mark_given(Habit::Severe, 0, 12, &mut rng), 0, "marks stay on the scale");
        assert_eq!(mark_given(Habit::Lenient, 12, 12, &mut rng), 12);
    }

    #[test]
    fn the_last_scripts_are_undecided() {
        assert!(decided(0, 12, 2));
        assert!(decided(10, 12, 0) && !decided(10, 12, 1));
        assert!(!decided(11, 12, 0));
    }
}
