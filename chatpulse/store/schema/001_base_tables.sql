-- ChatPulse schema version 1: base tables. Plain ClickHouse SQL, run unchanged on chDB and on a
-- server (clickhouse-connect). One statement per ';'-terminated block; no ';' inside statements.

-- Bookkeeping: one row per applied migration.
CREATE TABLE IF NOT EXISTS chatpulse_schema
(
    version UInt32,
    name String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version;

-- One row per chat message. ReplacingMergeTree(version) keyed by id (channel and sent_at follow
-- from id): a re-inserted message has version 0 like the first copy, so either copy may stay; a
-- moderation marker is a full copy with deleted = true and version = the moderation time in ms,
-- so the deleted copy always wins, whatever order merges happen in.
CREATE TABLE IF NOT EXISTS chat_messages
(
    id String,
    channel LowCardinality(String),
    channel_id LowCardinality(String),
    sent_at DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    received_at DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    source LowCardinality(String),
    user_id String CODEC(ZSTD(1)),
    user_login LowCardinality(String),
    user_name String CODEC(ZSTD(1)),
    text String CODEC(ZSTD(3)),
    is_action Bool,
    badges Map(LowCardinality(String), String),
    color LowCardinality(String),
    bits UInt32,
    first_msg Bool,
    returning_chatter Bool,
    reply_parent_id String CODEC(ZSTD(1)),
    reply_parent_user_login LowCardinality(String),
    source_channel_id LowCardinality(String),
    emote_count UInt16,
    sentiment_label LowCardinality(String),
    sentiment_score Nullable(Float32),
    sentiment_confidence Nullable(Float32),
    sentiment_model LowCardinality(String),
    deleted Bool DEFAULT false,
    deleted_at Nullable(DateTime64(3, 'UTC')),
    deleted_by LowCardinality(String) DEFAULT '',
    version UInt64 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toDate(sent_at)
ORDER BY (channel, sent_at, id);

-- Non-message events worth keeping: usernotice (subs, gifts, raids, announcements), clearchat,
-- clearmsg, roomstate, notice, hosttarget, coverage (connected/disconnected) and parse errors.
-- event_key is the Twitch id where the event has one, else a hash of its content.
CREATE TABLE IF NOT EXISTS chat_events
(
    event_key String,
    kind LowCardinality(String),
    channel LowCardinality(String),
    channel_id LowCardinality(String),
    sent_at DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    received_at DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    source LowCardinality(String),
    notice_type LowCardinality(String),
    user_id String CODEC(ZSTD(1)),
    user_login LowCardinality(String),
    target_user_login LowCardinality(String),
    target_user_id String CODEC(ZSTD(1)),
    target_message_id String CODEC(ZSTD(1)),
    ban_duration Nullable(UInt32),
    text String CODEC(ZSTD(3)),
    system_text String CODEC(ZSTD(3)),
    params Map(LowCardinality(String), String),
    raw String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(sent_at)
ORDER BY (channel, sent_at, kind, event_key);

-- One row per emote use in a message.
CREATE TABLE IF NOT EXISTS chat_emotes
(
    channel LowCardinality(String),
    sent_at DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    message_id String,
    position UInt16,
    emote_id LowCardinality(String),
    emote_name LowCardinality(String),
    provider LowCardinality(String),
    user_login LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(sent_at)
ORDER BY (channel, sent_at, message_id, position);
