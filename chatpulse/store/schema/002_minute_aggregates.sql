-- ChatPulse schema version 2: per-channel-minute aggregates fed by materialized views.
-- Read with the -Merge combinators (see chatpulse/store/queries.py). A view fires on every
-- insert into its source table, so the sink inserts each message, event and emote once
-- (it drops ids already stored; see docs/architecture.md, "Store").

CREATE TABLE IF NOT EXISTS chat_minute
(
    channel LowCardinality(String),
    minute DateTime('UTC'),
    messages AggregateFunction(count),
    chatters AggregateFunction(uniq, String),
    sentiment_mean AggregateFunction(avg, Nullable(Float32)),
    positive AggregateFunction(sum, UInt64),
    neutral AggregateFunction(sum, UInt64),
    negative AggregateFunction(sum, UInt64),
    bits_sum AggregateFunction(sum, UInt64),
    deleted_messages AggregateFunction(count),
    subs AggregateFunction(count)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (channel, minute);

-- Original messages (version 0): counts, chatters, sentiment, bits.
CREATE MATERIALIZED VIEW IF NOT EXISTS chat_minute_messages_mv TO chat_minute AS
SELECT
    channel,
    toStartOfMinute(toDateTime(sent_at, 'UTC')) AS minute,
    countState() AS messages,
    uniqState(user_login) AS chatters,
    avgState(sentiment_score) AS sentiment_mean,
    sumState(toUInt64(sentiment_label = 'positive')) AS positive,
    sumState(toUInt64(sentiment_label = 'neutral')) AS neutral,
    sumState(toUInt64(sentiment_label = 'negative')) AS negative,
    sumState(toUInt64(bits)) AS bits_sum
FROM chat_messages
WHERE version = 0
GROUP BY channel, minute;

-- Moderation markers (a deleted copy of a message): deleted messages, in the minute the
-- message was sent.
CREATE MATERIALIZED VIEW IF NOT EXISTS chat_minute_deleted_mv TO chat_minute AS
SELECT
    channel,
    toStartOfMinute(toDateTime(sent_at, 'UTC')) AS minute,
    countState() AS deleted_messages
FROM chat_messages
WHERE version > 0 AND deleted
GROUP BY channel, minute;

-- Subscriptions: sub, resub and each gifted sub. submysterygift is left out because Twitch
-- follows it with one subgift per recipient (dev.twitch.tv/docs/chat/irc, USERNOTICE msg-id).
CREATE MATERIALIZED VIEW IF NOT EXISTS chat_minute_subs_mv TO chat_minute AS
SELECT
    channel,
    toStartOfMinute(toDateTime(sent_at, 'UTC')) AS minute,
    countState() AS subs
FROM chat_events
WHERE kind = 'usernotice' AND notice_type IN ('sub', 'resub', 'subgift')
GROUP BY channel, minute;

CREATE TABLE IF NOT EXISTS chat_emote_minute
(
    channel LowCardinality(String),
    minute DateTime('UTC'),
    emote_name LowCardinality(String),
    provider LowCardinality(String),
    emote_id LowCardinality(String),
    uses AggregateFunction(count)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (channel, minute, emote_name, provider, emote_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS chat_emote_minute_mv TO chat_emote_minute AS
SELECT
    channel,
    toStartOfMinute(toDateTime(sent_at, 'UTC')) AS minute,
    emote_name,
    provider,
    emote_id,
    countState() AS uses
FROM chat_emotes
GROUP BY channel, minute, emote_name, provider, emote_id;
