-- The highest paper health-code serial each person has been issued, fed by paper_code.issued on
-- venuecode.status.v1: an inspection refuses a paper card below it (printing a card revokes the
-- earlier ones). Only ever raised, so a replayed or reordered event cannot lower it.
CREATE TABLE checkin.paper_serials (
    person_id uuid PRIMARY KEY,
    serial integer NOT NULL
);
