-- Sent outbox rows are pruned after a retention period; this index finds them without a scan.
CREATE INDEX outbox_sent ON registry.outbox (sent_at) WHERE sent_at IS NOT NULL;
