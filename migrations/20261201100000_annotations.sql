-- Annotations on the answer (ticks, crosses, AO labels, indicative-content
-- points, comments), anchored to a range of the typed answer or a position on
-- a scanned page. They are part of the mark that explains them: saved with its
-- draft, versioned with it, and seen by exactly those who may see the mark.
ALTER TABLE marks ADD COLUMN annotations jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT marks_annotations_array CHECK (jsonb_typeof(annotations) = 'array');
ALTER TABLE definitive_marks ADD COLUMN annotations jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT definitive_annotations_array CHECK (jsonb_typeof(annotations) = 'array');
