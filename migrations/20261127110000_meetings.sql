-- Standardisation meetings, blind marking, definitive marks and the audit log (the Meeting issue).

-- Lets meeting_scripts prove a script is on the meeting's paper.
CREATE TABLE meetings (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    paper_id    uuid NOT NULL REFERENCES papers (id),
    name        text NOT NULL CONSTRAINT meetings_name_present CHECK (length(btrim(name)) > 0),
    held_on     date,
    state       text NOT NULL DEFAULT 'setup' CONSTRAINT meetings_state_known CHECK (state IN ('setup', 'marking', 'closed')),
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    opened_at   timestamptz,
    closed_at   timestamptz,
    CONSTRAINT meetings_id_paper_key UNIQUE (id, paper_id)
);

CREATE TABLE meeting_participants (
    meeting_id  uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id),
    role        text NOT NULL CONSTRAINT participants_role_known CHECK (role IN ('pe', 'team_leader', 'examiner')),
    -- An examiner's team leader in this meeting, if in a team.
    team_leader_id uuid REFERENCES users (id),
    PRIMARY KEY (meeting_id, user_id),
    CONSTRAINT participants_leader_only_for_examiners CHECK (team_leader_id IS NULL OR role = 'examiner')
);
-- Exactly one principal examiner per meeting at most.
CREATE UNIQUE INDEX meeting_one_pe ON meeting_participants (meeting_id) WHERE role = 'pe';
CREATE INDEX participants_user ON meeting_participants (user_id);

CREATE TABLE meeting_scripts (
    meeting_id  uuid NOT NULL,
    paper_id    uuid NOT NULL,
    script_id   uuid NOT NULL,
    purpose     text NOT NULL CONSTRAINT meeting_scripts_purpose_known CHECK (purpose IN ('practice', 'qualification', 'seed')),
    position    integer NOT NULL,
    released_at timestamptz,
    released_by uuid REFERENCES users (id),
    PRIMARY KEY (meeting_id, script_id),
    CONSTRAINT meeting_scripts_meeting_fk FOREIGN KEY (meeting_id, paper_id) REFERENCES meetings (id, paper_id) ON DELETE CASCADE,
    CONSTRAINT meeting_scripts_script_fk FOREIGN KEY (script_id, paper_id) REFERENCES scripts (id, paper_id)
);

CREATE TABLE meeting_tolerances (
    meeting_id  uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    question_id uuid NOT NULL REFERENCES questions (id),
    tolerance   integer NOT NULL CONSTRAINT tolerance_nonneg CHECK (tolerance >= 0),
    PRIMARY KEY (meeting_id, question_id)
);

-- An examiner's mark for a response in a meeting. `version` guards against
-- silent overwrites from a second tab.
CREATE TABLE marks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id   uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    response_id  uuid NOT NULL REFERENCES responses (id),
    examiner_id  uuid NOT NULL REFERENCES users (id),
    level        integer,
    mark         integer NOT NULL CONSTRAINT marks_mark_nonneg CHECK (mark >= 0),
    comment      text NOT NULL DEFAULT '',
    credited     text[] NOT NULL DEFAULT '{}',
    state        text NOT NULL DEFAULT 'draft' CONSTRAINT marks_state_known CHECK (state IN ('draft', 'submitted')),
    version      integer NOT NULL DEFAULT 1,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    CONSTRAINT marks_one_per_examiner UNIQUE (meeting_id, response_id, examiner_id)
);
CREATE INDEX marks_meeting ON marks (meeting_id);

-- The principal examiner's definitive mark. After release a change needs a reason.
CREATE TABLE definitive_marks (
    meeting_id   uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    response_id  uuid NOT NULL REFERENCES responses (id),
    level        integer,
    mark         integer NOT NULL CONSTRAINT definitive_mark_nonneg CHECK (mark >= 0),
    rationale    text NOT NULL DEFAULT '',
    version      integer NOT NULL DEFAULT 1,
    set_by       uuid NOT NULL REFERENCES users (id),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    changed_after_release boolean NOT NULL DEFAULT false,
    change_reason text,
    PRIMARY KEY (meeting_id, response_id)
);

-- Every change of a mark, a definitive mark, a release or a role: never updated or deleted.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    meeting_id   uuid NOT NULL REFERENCES meetings (id),
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid REFERENCES users (id),
    action       text NOT NULL,
    response_id  uuid,
    subject_id   uuid,
    old_value    jsonb,
    new_value    jsonb,
    reason       text
);
CREATE INDEX audit_meeting ON audit_log (meeting_id, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
