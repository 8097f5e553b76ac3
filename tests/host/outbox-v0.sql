-- The outbox as Relais wrote it before schema version 1 (no user_version): AUTOINCREMENT, 4 KiB pages, dead
-- letters without `held`, id mappings without `mapped_ms`. The upgrade tests (test-host, test_delivery.py) start
-- from it and add their own rows.
PRAGMA page_size=4096; PRAGMA journal_mode=WAL;
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, destination TEXT NOT NULL, channel TEXT NOT NULL,
  route TEXT NOT NULL, delivery_key TEXT NOT NULL, message TEXT NOT NULL, rendered TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', enqueued_ms INTEGER NOT NULL);
CREATE TABLE dead_letters (seq INTEGER PRIMARY KEY AUTOINCREMENT, destination TEXT NOT NULL, channel TEXT NOT NULL,
  route TEXT NOT NULL, delivery_key TEXT NOT NULL, message TEXT NOT NULL, rendered TEXT NOT NULL,
  attempts INTEGER NOT NULL, last_error TEXT NOT NULL, enqueued_ms INTEGER NOT NULL, failed_ms INTEGER NOT NULL);
CREATE TABLE id_map (source TEXT NOT NULL, source_native TEXT NOT NULL, destination TEXT NOT NULL,
  destination_native TEXT NOT NULL, message_id TEXT NOT NULL, PRIMARY KEY (source, source_native, destination))
  WITHOUT ROWID;
CREATE INDEX id_map_by_destination ON id_map (destination, destination_native);
CREATE TABLE seen (source TEXT NOT NULL, key TEXT NOT NULL, seen_ms INTEGER NOT NULL, PRIMARY KEY (source, key))
  WITHOUT ROWID;
