-- Qualification and seeds (issue: the meeting ends with a decision on who may
-- mark live, and seeds keep checking them).

-- When the principal examiner opened qualification (examiners then get set 1).
ALTER TABLE meetings ADD COLUMN qualification_opened_at timestamptz;

-- A qualification set: an ordered list of the meeting's qualification scripts and its pass rule.
CREATE TABLE qualification_sets (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id          uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    number              integer NOT NULL CONSTRAINT qualification_sets_number_positive CHECK (number > 0),
    -- Pass: at least this many scripts with every response within tolerance ...
    min_within          integer NOT NULL CONSTRAINT qualification_sets_min_within_positive CHECK (min_within > 0),
    -- ... and, if set, a total absolute deviation no greater than this.
    max_total_deviation integer CONSTRAINT qualification_sets_max_deviation_nonneg CHECK (max_total_deviation >= 0),
    created_by          uuid REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT qualification_sets_meeting_number_key UNIQUE (meeting_id, number),
    CONSTRAINT qualification_sets_id_meeting_key UNIQUE (id, meeting_id)
);

CREATE TABLE qualification_set_scripts (
    set_id     uuid NOT NULL,
    meeting_id uuid NOT NULL,
    script_id  uuid NOT NULL,
    position   integer NOT NULL,
    PRIMARY KEY (set_id, script_id),
    CONSTRAINT qualification_set_scripts_set_fk FOREIGN KEY (set_id, meeting_id)
        REFERENCES qualification_sets (id, meeting_id) ON DELETE CASCADE,
    CONSTRAINT qualification_set_scripts_script_fk FOREIGN KEY (meeting_id, script_id)
        REFERENCES meeting_scripts (meeting_id, script_id) ON DELETE CASCADE
);
-- A script is in one set of a meeting at most.
CREATE UNIQUE INDEX qualification_set_scripts_once ON qualification_set_scripts (meeting_id, script_id);

-- Each marker's qualification in a meeting.
CREATE TABLE qualifications (
    meeting_id  uuid NOT NULL,
    examiner_id uuid NOT NULL,
    state       text NOT NULL DEFAULT 'not_started' CONSTRAINT qualifications_state_known
                CHECK (state IN ('not_started', 'in_progress', 'passed', 'failed', 'approved', 'not_approved')),
    -- The set they are marking or last marked.
    current_set integer,
    decided_by  uuid REFERENCES users (id),
    reason      text CONSTRAINT qualifications_reason_length CHECK (length(reason) <= 2000),
    decided_at  timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, examiner_id),
    CONSTRAINT qualifications_participant_fk FOREIGN KEY (meeting_id, examiner_id)
        REFERENCES meeting_participants (meeting_id, user_id) ON DELETE CASCADE
);

-- A marker's result on a set, decided when they submit its last response.
CREATE TABLE qualification_results (
    set_id          uuid NOT NULL REFERENCES qualification_sets (id) ON DELETE CASCADE,
    meeting_id      uuid NOT NULL,
    examiner_id     uuid NOT NULL,
    within          integer NOT NULL,
    scripts         integer NOT NULL,
    total_deviation integer NOT NULL,
    passed          boolean NOT NULL,
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (set_id, examiner_id),
    CONSTRAINT qualification_results_who_fk FOREIGN KEY (meeting_id, examiner_id)
        REFERENCES qualifications (meeting_id, examiner_id) ON DELETE CASCADE
);

-- Seed scripts given to an approved examiner, and what became of each.
CREATE TABLE seed_assignments (
    meeting_id    uuid NOT NULL,
    examiner_id   uuid NOT NULL,
    script_id     uuid NOT NULL,
    assigned_by   uuid REFERENCES users (id),
    assigned_at   timestamptz NOT NULL DEFAULT now(),
    -- Filled in when the examiner has submitted every response of the script.
    within        boolean,
    deviation     integer,
    completed_at  timestamptz,
    PRIMARY KEY (meeting_id, examiner_id, script_id),
    CONSTRAINT seed_assignments_script_fk FOREIGN KEY (meeting_id, script_id)
        REFERENCES meeting_scripts (meeting_id, script_id) ON DELETE CASCADE,
    CONSTRAINT seed_assignments_examiner_fk FOREIGN KEY (meeting_id, examiner_id)
        REFERENCES meeting_participants (meeting_id, user_id) ON DELETE CASCADE
);
CREATE INDEX seed_assignments_examiner ON seed_assignments (meeting_id, examiner_id, completed_at DESC);
