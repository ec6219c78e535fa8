//! Who a changed definitive mark affects: examiners whose within-tolerance
//! result on the response, or whose qualification set result, would change,
//! and how. The principal examiner sees this before deciding.

use serde::Serialize;
use sqlx::PgConnection;

use crate::{
    error::AppError,
    meetings::MeetingId,
    qualification::rules::{self, Marked, PassRule},
    scripts::{ResponseId, ScriptId},
    stats::tolerance::{tolerance_in_force, within_tolerance},
    users::UserId,
};

/// One examiner whose outcome would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Affected {
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their submitted mark on the response.
    pub mark: i32,
    /// Within tolerance of the definitive mark as it is.
    pub within_before: bool,
    /// Within tolerance of the proposed one.
    pub within_after: bool,
    /// For a qualification script: the set, and whether it was passed before and would be after.
    pub set: Option<i32>,
    /// See `set`.
    pub passed_before: Option<bool>,
    /// See `set`.
    pub passed_after: Option<bool>,
}

/// The outcome for one examiner, pure: does changing the definitive mark
/// from `before` to `after` move their mark across the tolerance?
pub fn crosses(mark: i32, before: i32, after: i32, tolerance: i32) -> Option<(bool, bool)> {
    let (b, a) = (within_tolerance(mark - before, tolerance), within_tolerance(mark - after, tolerance));
    (b != a).then_some((b, a))
}

struct MarkRow {
    examiner_id: UserId,
    email: String,
    name: String,
    mark: i32,
    tolerance: Option<i32>,
    max_mark: i32,
    definitive: Option<i32>,
}

/// The examiners whose outcome changes if the response's definitive mark becomes `proposed`.
pub async fn of_definitive_change(
    db: &mut PgConnection,
    meeting_id: MeetingId,
    response_id: ResponseId,
    proposed: i32,
) -> Result<Vec<Affected>, AppError> {
    let rows = sqlx::query_as!(
        MarkRow,
        r#"SELECT m.examiner_id AS "examiner_id: UserId", u.email, u.name, m.mark, t.tolerance AS "tolerance?", q.max_mark,
                  d.mark AS "definitive?"
           FROM marks m JOIN users u ON u.id = m.examiner_id JOIN responses r ON r.id = m.response_id
           JOIN questions q ON q.id = r.question_id
           LEFT JOIN meeting_tolerances t ON t.meeting_id = m.meeting_id AND t.question_id = r.question_id
           LEFT JOIN definitive_marks d ON d.meeting_id = m.meeting_id AND d.response_id = m.response_id
           WHERE m.meeting_id = $1 AND m.response_id = $2 AND m.state = 'submitted'
           ORDER BY lower(u.name)"#,
        meeting_id as MeetingId,
        response_id as ResponseId,
    )
    .fetch_all(&mut *db)
    .await?;
    // A qualification set the response is in, with its rule, and every mark of its examiners on it.
    let set = sqlx::query!(
        "SELECT qs.id, qs.number, qs.min_within, qs.max_total_deviation
         FROM qualification_set_scripts qss JOIN qualification_sets qs ON qs.id = qss.set_id
         JOIN responses r ON r.script_id = qss.script_id WHERE qss.meeting_id = $1 AND r.id = $2",
        meeting_id as MeetingId,
        response_id as ResponseId,
    )
    .fetch_optional(&mut *db)
    .await?
    .map(|s| (s.id, s.number, s.min_within, s.max_total_deviation));
    struct SetMark {
        examiner_id: UserId,
        response_id: ResponseId,
        script_id: ScriptId,
        mark: i32,
        definitive: i32,
        tolerance: Option<i32>,
        max_mark: i32,
        passed: bool,
    }
    let set_marks: Vec<SetMark> =
        match set {
            Some((set_id, ..)) => sqlx::query_as!(
                SetMark,
                r#"SELECT m.examiner_id AS "examiner_id: UserId", r.id AS "response_id: ResponseId", r.script_id AS "script_id: ScriptId",
                          m.mark, d.mark AS definitive, t.tolerance AS "tolerance?", q.max_mark, qr.passed
                 FROM qualification_results qr
                 JOIN qualification_set_scripts qss ON qss.set_id = qr.set_id
                 JOIN responses r ON r.script_id = qss.script_id JOIN questions q ON q.id = r.question_id
                 JOIN marks m ON m.meeting_id = qr.meeting_id AND m.response_id = r.id AND m.examiner_id = qr.examiner_id
                 JOIN definitive_marks d ON d.meeting_id = qr.meeting_id AND d.response_id = r.id
                 LEFT JOIN meeting_tolerances t ON t.meeting_id = qr.meeting_id AND t.question_id = q.id
                 WHERE qr.set_id = $1"#,
                set_id,
            )
            .fetch_all(&mut *db)
            .await?,
            None => Vec::new(),
        };
    let mut affected = Vec::new();
    for r in rows {
        let Some(before) = r.definitive else { continue };
        let tolerance = tolerance_in_force(r.tolerance, r.max_mark);
        let crossing = crosses(r.mark, before, proposed, tolerance);
        let (set_number, passed_before, passed_after) = match set {
            Some((_, number, min_within, max_total_deviation)) => {
                let mine: Vec<&SetMark> = set_marks.iter().filter(|m| m.examiner_id == r.examiner_id).collect();
                if mine.is_empty() {
                    (None, None, None)
                } else {
                    let rule = PassRule { min_within, max_total_deviation };
                    let judged = |changed: bool| {
                        let marks: Vec<Marked> = mine
                            .iter()
                            .map(|m| Marked {
                                script: m.script_id.0,
                                mark: m.mark,
                                definitive: if changed && m.response_id == response_id { proposed } else { m.definitive },
                                tolerance: tolerance_in_force(m.tolerance, m.max_mark),
                            })
                            .collect();
                        rules::judge(rule, &marks).passed
                    };
                    let before = mine[0].passed;
                    (Some(number), Some(before), Some(judged(true)))
                }
            }
            None => (None, None, None),
        };
        let qualification_changes = passed_before != passed_after;
        if crossing.is_some() || qualification_changes {
            let (within_before, within_after) = crossing.unwrap_or_else(|| {
                let w = within_tolerance(r.mark - before, tolerance);
                (w, w)
            });
            affected.push(Affected {
                email: r.email,
                name: r.name,
                mark: r.mark,
                within_before,
                within_after,
                set: set_number.filter(|_| qualification_changes),
                passed_before: passed_before.filter(|_| qualification_changes),
                passed_after: passed_after.filter(|_| qualification_changes),
            });
        }
    }
    Ok(affected)
}

#[cfg(test)]
mod tests {
    use super::crosses;

    #[test]
    fn only_marks_that_cross_the_tolerance_are_affected() {
        assert_eq!(crosses(8, 8, 10, 1), Some((true, false)));
        assert_eq!(crosses(8, 10, 9, 1), Some((false, true)));
        assert_eq!(crosses(8, 8, 9, 1), None, "still within");
        assert_eq!(crosses(3, 8, 9, 1), None, "still outside");
    }
}
