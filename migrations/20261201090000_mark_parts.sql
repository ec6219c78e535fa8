-- Questions marked on separate grids per assessment objective (WJEC's AO1/AO2/AO3
-- bands) are marked with a level and mark per grid; the mark column keeps
-- the total, so statistics, tolerance and exports read one number as before.
-- The parts are versioned with the mark they belong to, so they live on its row.
ALTER TABLE marks ADD COLUMN parts jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT marks_parts_array CHECK (jsonb_typeof(parts) = 'array');
ALTER TABLE definitive_marks ADD COLUMN parts jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT definitive_parts_array CHECK (jsonb_typeof(parts) = 'array');
