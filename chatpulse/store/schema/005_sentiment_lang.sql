-- ChatPulse schema version 5: the language of a message the analyzer found not to be English
-- (ISO 639-1, Sentiment.lang; '' = English or unknown). Such a message is stored without a
-- mood verdict (sentiment_label '', sentiment_score NULL), so every mood figure -- the minute
-- aggregates, the dashboard, reports, Superset -- leaves it out instead of counting a guess.

ALTER TABLE chat_messages ADD COLUMN IF NOT EXISTS sentiment_lang LowCardinality(String) DEFAULT '' AFTER sentiment_model;
