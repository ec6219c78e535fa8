-- Indexes that were missing: each column (or pair) below is joined or filtered
-- on, or is the referencing side of a foreign key that PostgreSQL checks when
-- the referenced row is deleted, and no existing index starts with it.

-- Meetings on a paper (amendments move them to the new version; who may amend).
CREATE INDEX meetings_paper ON meetings (paper_id);
-- The meetings a script is in (the scripts foreign key).
CREATE INDEX meeting_scripts_script ON meeting_scripts (script_id);
-- A question's tolerances (the questions foreign key).
CREATE INDEX meeting_tolerances_question ON meeting_tolerances (question_id);
-- A team leader's team in a meeting (the team filter, referrals, qualification).
CREATE INDEX meeting_participants_team ON meeting_participants (meeting_id, team_leader_id);
-- Marks crediting a point (the indicative_points foreign key).
CREATE INDEX mark_credits_point ON mark_credits (point_id);
-- Marks on a response (the responses foreign key).
CREATE INDEX marks_response ON marks (response_id);
-- Referrals about a response.
CREATE INDEX referrals_response ON referrals (response_id);
-- Amendments of a question.
CREATE INDEX amendments_question ON amendments (question_id);
-- A marker's set results in a meeting (the qualifications foreign key, overview).
CREATE INDEX qualification_results_examiner ON qualification_results (meeting_id, examiner_id);
-- Who was given a seed script (the meeting_scripts foreign key).
CREATE INDEX seed_assignments_script ON seed_assignments (meeting_id, script_id);
