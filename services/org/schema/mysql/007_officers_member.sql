-- Officers by member: a member who leaves, dies or is transferred out ends their appointments
-- (the member service's events, Step 7).
CREATE INDEX idx_officers_member ON officers (member, end_date);
