"""Sources of chat: live Twitch (IRC, EventSub, both), recordings, synthetic chat; see :mod:`.base`."""
