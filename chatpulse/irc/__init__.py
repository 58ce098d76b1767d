"""IRC: the IRCv3 message grammar (:mod:`.parser`) and Twitch's commands as events (:mod:`.twitch`)."""
