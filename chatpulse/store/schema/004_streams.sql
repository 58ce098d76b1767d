-- ChatPulse schema version 4: streams. A stream is a channel's broadcast: Twitch's own (source
-- 'twitch', from Helix GET /streams or EventSub stream.online/offline, with its id, title,
-- category changes and archive VOD) or, without credentials, a chat session (source 'chat':
-- activity cut at silences of streams.gap_minutes). Both are recomputable from stored chat.
--
-- ReplacingMergeTree(updated_at): every update writes the whole row again and the newest wins;
-- read with FINAL. A chat session that a recompute no longer finds (a gap filled by imported
-- chat) gets a newer copy with dropped = true instead of a mutation, which would be
-- asynchronous on a server. Figures cover [started_at, ended_at), or up to now while live
-- (ended_at NULL). Names no user.

CREATE TABLE IF NOT EXISTS streams
(
    channel LowCardinality(String),
    stream_id String,
    source LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    ended_at Nullable(DateTime64(3, 'UTC')),
    title String,
    category String,
    category_times Array(DateTime64(3, 'UTC')),
    category_names Array(String),
    vod_id String,
    messages UInt64,
    chatters UInt64,
    sentiment_mean Nullable(Float64),
    subs UInt64,
    gifts UInt64,
    bits UInt64,
    dropped Bool DEFAULT false,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (channel, source, stream_id);
