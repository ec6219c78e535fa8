-- Versioned mark schemes (issue: one rule, a schema ready for versions).
--
-- A paper's scheme is a sequence of immutable versions. The editable tables
-- (questions, level_bands, ao_grids) hold the working copy an administrator
-- edits before any meeting marks; every save of it makes a new version. A
-- version is stored whole, as the document it is (JSON of the scheme with its
-- question ids), because it is only ever read whole, compared whole, and never
-- changed: a trigger refuses updates. What other rows must point at is
-- relational: indicative-content points are rows with stable ids (a point keeps
-- its id in every version that still has it), each version lists its points,
-- a meeting is pinned to the version it opened with, and every mark and
-- definitive mark records the version it was given under.

CREATE TABLE scheme_versions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    paper_id    uuid NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    number      integer NOT NULL CONSTRAINT scheme_versions_number_positive CHECK (number > 0),
    -- {"scheme": <the scheme as the importer prints it>, "question_ids": [...], "points": [[{"id", "text"}], ...]}
    document    jsonb NOT NULL CONSTRAINT scheme_versions_document_shape
                CHECK (jsonb_typeof(document -> 'scheme') = 'object' AND jsonb_typeof(document -> 'question_ids') = 'array'
                       AND jsonb_typeof(document -> 'points') = 'array'),
    -- Why this version exists, for people ("Imported", "Edited before marking", an amendment's reason).
    note        text NOT NULL DEFAULT '' CONSTRAINT scheme_versions_note_length CHECK (length(note) <= 2000),
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scheme_versions_paper_number_key UNIQUE (paper_id, number),
    CONSTRAINT scheme_versions_id_paper_key UNIQUE (id, paper_id)
);

CREATE FUNCTION scheme_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'scheme versions are immutable: make a new version instead';
END;
$$;
CREATE TRIGGER scheme_versions_no_update BEFORE UPDATE ON scheme_versions
    FOR EACH ROW EXECUTE FUNCTION scheme_versions_immutable();

-- A point of indicative content: its text never changes; a changed point is a new point.
CREATE TABLE indicative_points (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id uuid NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    text        text NOT NULL CONSTRAINT indicative_points_text_length CHECK (length(btrim(text)) BETWEEN 1 AND 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT indicative_points_question_text_key UNIQUE (question_id, text)
);

-- Which points a version has, in order. A question removed from the working
-- copy (possible only while no meeting marks it and it has no responses, so
-- no mark can credit its points) takes its points with it; the versions'
-- documents still show what they were.
CREATE TABLE version_points (
    scheme_version_id uuid NOT NULL REFERENCES scheme_versions (id) ON DELETE CASCADE,
    point_id          uuid NOT NULL REFERENCES indicative_points (id) ON DELETE CASCADE,
    position          integer NOT NULL,
    PRIMARY KEY (scheme_version_id, point_id)
);

ALTER TABLE meetings ADD COLUMN scheme_version_id uuid REFERENCES scheme_versions (id);
ALTER TABLE marks ADD COLUMN scheme_version_id uuid REFERENCES scheme_versions (id);
ALTER TABLE definitive_marks ADD COLUMN scheme_version_id uuid REFERENCES scheme_versions (id);

-- Credited points, by id, replacing the free text of marks.credited.
CREATE TABLE mark_credits (
    mark_id  uuid NOT NULL REFERENCES marks (id) ON DELETE CASCADE,
    point_id uuid NOT NULL REFERENCES indicative_points (id),
    PRIMARY KEY (mark_id, point_id)
);

-- Carry existing papers over: their points (the bullets of each question's
-- indicative content, as the marking page offered them: "**" removed, trimmed,
-- at most 160 characters), then version 1 of each scheme.
INSERT INTO indicative_points (question_id, text)
SELECT DISTINCT q.id, left(btrim(replace(m[1], '**', ''), E' \t\r'), 160)
FROM questions q, regexp_matches(q.indicative_content, '^[ \t]*[-*] (.+)$', 'gn') AS m
WHERE btrim(replace(m[1], '**', ''), E' \t\r') <> '';

WITH bullets AS (
    SELECT q.id AS question_id, left(btrim(replace(m.m[1], '**', ''), E' \t\r'), 160) AS text, min(m.n) AS n
    FROM questions q, regexp_matches(q.indicative_content, '^[ \t]*[-*] (.+)$', 'gn') WITH ORDINALITY AS m(m, n)
    WHERE btrim(replace(m.m[1], '**', ''), E' \t\r') <> ''
    GROUP BY 1, 2
),
question_docs AS (
    SELECT q.paper_id, q.id, q.position,
        jsonb_build_object(
            'number', q.number, 'prompt', q.prompt, 'max_mark', q.max_mark, 'targets', to_jsonb(q.targets),
            'kind', q.kind, 'indicative_content', q.indicative_content,
            'levels', COALESCE((SELECT jsonb_agg(jsonb_build_object('level', b.level, 'min', b.min_mark, 'max', b.max_mark,
                                                                     'descriptor', b.descriptor) ORDER BY b.level)
                                FROM level_bands b WHERE b.question_id = q.id AND b.grid = 0), '[]'::jsonb),
            'ao_bands', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                                     'targets', to_jsonb(g.targets),
                                     'levels', COALESCE((SELECT jsonb_agg(jsonb_build_object('level', b.level, 'min', b.min_mark,
                                                                  'max', b.max_mark, 'descriptor', b.descriptor) ORDER BY b.level)
                                                         FROM level_bands b WHERE b.question_id = q.id AND b.grid = g.grid), '[]'::jsonb))
                                     ORDER BY g.grid)
                                  FROM ao_grids g WHERE g.question_id = q.id), '[]'::jsonb)
        ) AS doc,
        COALESCE((SELECT jsonb_agg(jsonb_build_object('id', p.id, 'text', p.text) ORDER BY bl.n)
                  FROM bullets bl JOIN indicative_points p ON p.question_id = bl.question_id AND p.text = bl.text
                  WHERE bl.question_id = q.id), '[]'::jsonb) AS points
    FROM questions q
)
INSERT INTO scheme_versions (paper_id, number, document, note, created_by, created_at)
SELECT pa.id, 1,
    jsonb_build_object(
        'scheme', jsonb_build_object(
            'paper', jsonb_build_object('code', pa.code, 'title', pa.title, 'series', pa.series, 'board', pa.board),
            'guidance', pa.guidance,
            'questions', COALESCE((SELECT jsonb_agg(d.doc ORDER BY d.position) FROM question_docs d WHERE d.paper_id = pa.id), '[]'::jsonb)),
        'question_ids', COALESCE((SELECT jsonb_agg(d.id ORDER BY d.position) FROM question_docs d WHERE d.paper_id = pa.id), '[]'::jsonb),
        'points', COALESCE((SELECT jsonb_agg(d.points ORDER BY d.position) FROM question_docs d WHERE d.paper_id = pa.id), '[]'::jsonb)),
    'The scheme as it stood when versions began',
    pa.created_by, pa.updated_at
FROM papers pa;

INSERT INTO version_points (scheme_version_id, point_id, position)
SELECT v.id, (pt ->> 'id')::uuid, row_number() OVER (PARTITION BY v.id ORDER BY qi.n, pi.n)::integer
FROM scheme_versions v,
     jsonb_array_elements(v.document -> 'points') WITH ORDINALITY AS qi(points, n),
     jsonb_array_elements(qi.points) WITH ORDINALITY AS pi(pt, n);

-- Every meeting that has started marking used the only version there is; so did its marks.
UPDATE meetings m SET scheme_version_id = v.id FROM scheme_versions v WHERE v.paper_id = m.paper_id AND m.state <> 'setup';
UPDATE marks k SET scheme_version_id = m.scheme_version_id FROM meetings m WHERE m.id = k.meeting_id;
UPDATE definitive_marks d SET scheme_version_id = v.id
FROM meetings m JOIN scheme_versions v ON v.paper_id = m.paper_id WHERE m.id = d.meeting_id;

-- Credited texts become credited points (a text no point of its question matches is kept as a point of its own).
INSERT INTO indicative_points (question_id, text)
SELECT DISTINCT r.question_id, left(btrim(c), 160)
FROM marks k JOIN responses r ON r.id = k.response_id, unnest(k.credited) AS c
WHERE btrim(c) <> ''
ON CONFLICT (question_id, text) DO NOTHING;
INSERT INTO mark_credits (mark_id, point_id)
SELECT DISTINCT k.id, p.id
FROM marks k JOIN responses r ON r.id = k.response_id, unnest(k.credited) AS c
JOIN indicative_points p ON p.text = left(btrim(c), 160)
WHERE p.question_id = r.question_id;
ALTER TABLE marks DROP COLUMN credited;

-- From now on every mark and definitive mark says which version it was given under.
ALTER TABLE marks ALTER COLUMN scheme_version_id SET NOT NULL;
ALTER TABLE definitive_marks ALTER COLUMN scheme_version_id SET NOT NULL;
-- A meeting that marks is pinned to a version.
ALTER TABLE meetings ADD CONSTRAINT meetings_pinned_once_marking CHECK (state = 'setup' OR scheme_version_id IS NOT NULL);
CREATE INDEX scheme_versions_paper ON scheme_versions (paper_id, number DESC);
CREATE INDEX indicative_points_question ON indicative_points (question_id);
