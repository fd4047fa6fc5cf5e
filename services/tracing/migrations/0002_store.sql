-- The check-in history, partitioned by UTC day so that a window query touches
-- only the days it needs and retention drops whole days at once.
-- A partitioned table's unique keys must contain the partition key; a check-in's
-- checked_in_at never changes for its checkin_id, so (checked_in_at, checkin_id)
-- is unique exactly when checkin_id is.
CREATE TABLE tracing.checkins (
    checkin_id uuid NOT NULL,
    person_id uuid NOT NULL,
    venue_id uuid NOT NULL,
    method text NOT NULL,
    temperature_band text,
    colour_at_checkin text NOT NULL,
    inspector_id uuid,
    guardian_id uuid,
    checked_in_at timestamptz NOT NULL,
    checked_out_at timestamptz,
    PRIMARY KEY (checked_in_at, checkin_id)
) PARTITION BY RANGE (checked_in_at);

CREATE INDEX checkins_venue_time ON tracing.checkins (venue_id, checked_in_at);
CREATE INDEX checkins_person_time ON tracing.checkins (person_id, checked_in_at);

-- Safety net only: ingestion creates the day's partition before it writes.
CREATE TABLE tracing.checkins_default PARTITION OF tracing.checkins DEFAULT;

-- Create the partition of one UTC day when it is missing. Serialised by an
-- advisory lock so that two consumers racing on a new day do not collide; when
-- the default partition already holds rows of that day the day stays there.
CREATE FUNCTION tracing.ensure_day_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    part text := format('checkins_p%s', to_char(day, 'YYYYMMDD'));
BEGIN
    IF to_regclass(format('tracing.%I', part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('venuecode.tracing.partitions'));
    IF to_regclass(format('tracing.%I', part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE tracing.%I PARTITION OF tracing.checkins FOR VALUES FROM (%L) TO (%L)',
        part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    RETURN true;
EXCEPTION WHEN check_violation THEN
    RAISE NOTICE 'default partition holds rows of %; left there', day;
    RETURN false;
END $$;

-- Drop every day partition that ends on or before the cutoff day, and delete
-- older rows from the default partition; returns the partitions dropped.
CREATE FUNCTION tracing.drop_partitions_before(cutoff date) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('venuecode.tracing.partitions'));
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = 'tracing' AND p.relname = 'checkins'
          AND c.relname ~ '^checkins_p[0-9]{8}$'
          AND to_date(substr(c.relname, 11), 'YYYYMMDD') < cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE tracing.%I', part.relname);
        RETURN NEXT part.relname;
    END LOOP;
    DELETE FROM tracing.checkins_default WHERE checked_in_at < cutoff::timestamp AT TIME ZONE 'UTC';
END $$;

-- The venue read model, from registry events: a visit's default dwell comes from here.
CREATE TABLE tracing.venues (
    venue_id uuid PRIMARY KEY,
    region_code text NOT NULL,
    name text NOT NULL,
    category text NOT NULL,
    typical_stay_minutes integer,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A contact query as it was asked and answered, so exports and notifications refer to it.
CREATE TABLE tracing.contact_queries (
    query_id uuid PRIMARY KEY,
    requested_by uuid NOT NULL,
    person_id uuid NOT NULL,
    from_at timestamptz NOT NULL,
    to_at timestamptz NOT NULL,
    dwell_minutes integer,
    min_overlap_minutes integer NOT NULL,
    depth integer NOT NULL,
    case_visits jsonb NOT NULL,
    contact_count integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_queries_created ON tracing.contact_queries (created_at);

CREATE TABLE tracing.query_contacts (
    query_id uuid NOT NULL REFERENCES tracing.contact_queries (query_id) ON DELETE CASCADE,
    person_id uuid NOT NULL,
    venue_id uuid NOT NULL,
    contact_checked_in_at timestamptz NOT NULL,
    case_checked_in_at timestamptz NOT NULL,
    overlap_minutes double precision NOT NULL,
    depth integer NOT NULL,
    via_person_id uuid NOT NULL,
    PRIMARY KEY (query_id, person_id)
);

-- Operator switches, e.g. {"paused": true} under 'notifications'.
CREATE TABLE tracing.settings (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Who ran which query, export or notification, when, and about how many people.
CREATE TABLE tracing.audit_log (
    audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id uuid NOT NULL,
    action text NOT NULL,
    query_id uuid,
    subject_id uuid,
    count integer NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at ON tracing.audit_log (at);
