-- The living mark scheme: referrals to the principal examiner, amendments
-- that make new scheme versions, and rulings (every adjudication kept).

CREATE TABLE referrals (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id   uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    response_id  uuid NOT NULL REFERENCES responses (id),
    asked_by     uuid NOT NULL REFERENCES users (id),
    question     text NOT NULL CONSTRAINT referrals_question_length CHECK (length(btrim(question)) BETWEEN 1 AND 2000),
    -- open: waiting; passed_up: a team leader sent it on to the principal examiner; answered.
    state        text NOT NULL DEFAULT 'open' CONSTRAINT referrals_state_known CHECK (state IN ('open', 'passed_up', 'answered')),
    answer       text CONSTRAINT referrals_answer_length CHECK (length(answer) <= 5000),
    answered_by  uuid REFERENCES users (id),
    answered_at  timestamptz,
    amendment_id uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT referrals_answered_has_answer CHECK ((state = 'answered') = (answer IS NOT NULL))
);
CREATE INDEX referrals_meeting ON referrals (meeting_id, created_at);

CREATE TABLE amendments (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    paper_id          uuid NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    -- The version this amendment made.
    scheme_version_id uuid NOT NULL REFERENCES scheme_versions (id),
    question_id       uuid NOT NULL REFERENCES questions (id),
    kind              text NOT NULL CONSTRAINT amendments_kind_known CHECK (kind IN ('indicative_content', 'level_descriptor', 'note')),
    level             integer,
    text              text NOT NULL CONSTRAINT amendments_text_length CHECK (length(btrim(text)) BETWEEN 1 AND 5000),
    reason            text NOT NULL CONSTRAINT amendments_reason_length CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    meeting_id        uuid REFERENCES meetings (id) ON DELETE SET NULL,
    referral_id       uuid REFERENCES referrals (id),
    response_id       uuid REFERENCES responses (id),
    created_by        uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT amendments_level_for_descriptors CHECK ((kind = 'level_descriptor') = (level IS NOT NULL))
);
CREATE INDEX amendments_paper ON amendments (paper_id, created_at);
ALTER TABLE referrals ADD CONSTRAINT referrals_amendment_fk FOREIGN KEY (amendment_id) REFERENCES amendments (id);

-- Every adjudication, as it stood: the marks at that moment, the definitive
-- mark before and after, the rationale, and any amendment it led to.
CREATE TABLE rulings (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id        uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    response_id       uuid NOT NULL REFERENCES responses (id),
    marks             jsonb NOT NULL,
    definitive_before jsonb,
    definitive_after  jsonb NOT NULL,
    amendment_id      uuid REFERENCES amendments (id),
    ruled_by          uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rulings_meeting ON rulings (meeting_id, created_at);

-- The newest scheme version each person has seen in a meeting (amendments after it are highlighted).
CREATE TABLE amendments_seen (
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id),
    version    integer NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
