-- ChatPulse schema version 3: the log-archive days `chatpulse import` has stored, so a rerun
-- fetches only what is missing. A day is recorded once all its lines are in the store (never
-- today's, which the archive is still writing). Names no user.

CREATE TABLE IF NOT EXISTS archive_days
(
    channel String,
    day Date,
    archive String,
    lines UInt64,
    imported_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (channel, day);
