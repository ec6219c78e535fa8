-- Papers, their mark schemes, and candidate scripts (the Papers issue).

CREATE TABLE papers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    board       text NOT NULL CONSTRAINT papers_board_present CHECK (length(btrim(board)) > 0),
    code        text NOT NULL CONSTRAINT papers_code_present CHECK (length(btrim(code)) > 0),
    title       text NOT NULL CONSTRAINT papers_title_present CHECK (length(btrim(title)) > 0),
    series      text NOT NULL CONSTRAINT papers_series_present CHECK (length(btrim(series)) > 0),
    -- Generic marking guidance, Markdown.
    guidance    text NOT NULL DEFAULT '',
    -- The document as the board published it, kept for reference.
    source_document text,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT papers_board_code_series_key UNIQUE (board, code, series)
);

CREATE TABLE questions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    paper_id    uuid NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    -- As the board writes it: "01", "3b".
    number      text NOT NULL CONSTRAINT questions_number_present CHECK (length(btrim(number)) > 0),
    position    integer NOT NULL,
    prompt      text NOT NULL DEFAULT '',
    max_mark    integer NOT NULL CONSTRAINT questions_max_mark_range CHECK (max_mark > 0 AND max_mark <= 1000),
    targets     text[] NOT NULL DEFAULT '{}',
    -- levels: one band grid; points: any mark 0..max; ao_bands: a grid per objective, marks add up.
    kind        text NOT NULL CONSTRAINT questions_kind_known CHECK (kind IN ('levels', 'points', 'ao_bands')),
    indicative_content text NOT NULL DEFAULT '',
    CONSTRAINT questions_paper_number_key UNIQUE (paper_id, number),
    -- Lets responses prove their question is on their script's paper.
    CONSTRAINT questions_id_paper_key UNIQUE (id, paper_id)
);

-- The objectives each separate band grid assesses (ao_bands questions).
CREATE TABLE ao_grids (
    question_id uuid NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    grid        integer NOT NULL CONSTRAINT ao_grids_grid_positive CHECK (grid > 0),
    targets     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (question_id, grid)
);

-- Bands: grid 0 is the question's own levels grid, grid n > 0 the n-th ao_grid.
CREATE TABLE level_bands (
    question_id uuid NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    grid        integer NOT NULL DEFAULT 0 CONSTRAINT level_bands_grid_nonneg CHECK (grid >= 0),
    level       integer NOT NULL CONSTRAINT level_bands_level_nonneg CHECK (level >= 0),
    min_mark    integer NOT NULL CONSTRAINT level_bands_min_nonneg CHECK (min_mark >= 0),
    max_mark    integer NOT NULL,
    descriptor  text NOT NULL DEFAULT '',
    PRIMARY KEY (question_id, grid, level),
    CONSTRAINT level_bands_range CHECK (max_mark >= min_mark)
);

-- Uploaded files (handwritten answers as PDF or image). Type checked by content.
CREATE TABLE attachments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    content_type text NOT NULL CONSTRAINT attachments_type_known
                 CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    filename     text NOT NULL,
    bytes        bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE scripts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    paper_id   uuid NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    -- Anonymous candidate number: no names in standardise.
    candidate  text NOT NULL CONSTRAINT scripts_candidate_format CHECK (candidate ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scripts_paper_candidate_key UNIQUE (paper_id, candidate),
    CONSTRAINT scripts_id_paper_key UNIQUE (id, paper_id)
);

CREATE TABLE responses (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    script_id     uuid NOT NULL,
    question_id   uuid NOT NULL,
    paper_id      uuid NOT NULL,
    text          text,
    attachment_id uuid REFERENCES attachments (id),
    CONSTRAINT responses_script_question_key UNIQUE (script_id, question_id),
    -- Both on the same paper, enforced by the database.
    CONSTRAINT responses_script_fk FOREIGN KEY (script_id, paper_id) REFERENCES scripts (id, paper_id) ON DELETE CASCADE,
    CONSTRAINT responses_question_fk FOREIGN KEY (question_id, paper_id) REFERENCES questions (id, paper_id),
    CONSTRAINT responses_has_content CHECK (text IS NOT NULL OR attachment_id IS NOT NULL)
);
CREATE INDEX responses_question ON responses (question_id);
CREATE INDEX responses_attachment ON responses (attachment_id);
