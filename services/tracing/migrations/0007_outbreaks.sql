-- Numbered 0005 so that the Citus keys of the tracing store (another branch) can take 0004.
-- An exposure analysis as it was asked and answered: the console draws and exports from it.
CREATE TABLE tracing.exposure_analyses (
    analysis_id uuid PRIMARY KEY,
    requested_by uuid NOT NULL,
    case_ids uuid[] NOT NULL,
    from_at timestamptz NOT NULL,
    to_at timestamptz NOT NULL,
    gap_minutes integer NOT NULL,
    dwell_minutes integer,
    answer jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX exposure_analyses_created ON tracing.exposure_analyses (created_at);

-- A venue alert: everyone present at a venue in a window, turned risk_area_visit once a
-- second person approves. state: pending -> approved -> withdrawn, or pending -> withdrawn.
CREATE TABLE tracing.venue_alerts (
    alert_id uuid PRIMARY KEY,
    venue_id uuid NOT NULL,
    from_at timestamptz NOT NULL,
    to_at timestamptz NOT NULL,
    dwell_minutes integer,
    note text,
    state text NOT NULL CHECK (state IN ('pending', 'approved', 'withdrawn')),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    approved_by uuid,
    approved_at timestamptz,
    withdrawn_by uuid,
    withdrawn_at timestamptz,
    -- The two-person rule, held by the database as well as by the service.
    CHECK (approved_by IS NULL OR approved_by <> created_by)
);
CREATE INDEX venue_alerts_created ON tracing.venue_alerts (created_at);

-- Who the alert found, frozen at creation: the reviewer approves exactly this list.
CREATE TABLE tracing.venue_alert_people (
    alert_id uuid NOT NULL REFERENCES tracing.venue_alerts (alert_id) ON DELETE CASCADE,
    person_id uuid NOT NULL,
    checked_in_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    PRIMARY KEY (alert_id, person_id)
);
